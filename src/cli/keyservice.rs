//! `sesame keyservice`: serves sops's key service protocol with this machine's keys, on a
//! loopback TCP port or a Unix socket (created 0600), so a remote shell or container can use
//! them without holding them. `--prompt` asks on the terminal before each request.

use crate::cli::args::{Flags, KeyserviceArgs};
use crate::cli::exit::{CliResult, Failure, code};
use sesame::env::ProcessEnv;
use sesame::keys::groups::KeySources;
use sesame::keys::keyservice::{self, proto};
use std::io::{BufRead, Write};
use std::sync::mpsc;
use tokio::sync::oneshot;
use tonic::{Request, Response, Status};
use zeroize::Zeroizing;

#[derive(Clone, Copy, Debug)]
enum Op {
    Encrypt,
    Decrypt,
}

impl Op {
    fn word(self) -> &'static str {
        match self {
            Op::Encrypt => "encrypt",
            Op::Decrypt => "decrypt",
        }
    }
}

/// One request for the thread that owns the keys.
struct Job {
    op: Op,
    key: proto::Key,
    data: Zeroizing<Vec<u8>>,
    reply: oneshot::Sender<Result<Zeroizing<Vec<u8>>, Status>>,
}

/// The gRPC side: hands each request to the key thread and waits for its answer.
struct Service {
    jobs: std::sync::Mutex<mpsc::Sender<Job>>,
}

impl Service {
    async fn ask(&self, op: Op, key: Option<proto::Key>, data: Vec<u8>) -> Result<Vec<u8>, Status> {
        let key = key.ok_or_else(|| Status::not_found("Must provide a key"))?;
        if key.key_type.is_none() {
            return Err(Status::not_found("Unknown key type"));
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            op,
            key,
            data: Zeroizing::new(data),
            reply,
        };
        self.jobs
            .lock()
            .map_err(|_| Status::internal("the key thread stopped"))?
            .send(job)
            .map_err(|_| Status::internal("the key thread stopped"))?;
        let result = answer
            .await
            .map_err(|_| Status::internal("the key thread stopped"))??;
        Ok(result.to_vec())
    }
}

#[tonic::async_trait]
impl proto::key_service_server::KeyService for Service {
    async fn encrypt(
        &self,
        request: Request<proto::EncryptRequest>,
    ) -> Result<Response<proto::EncryptResponse>, Status> {
        let r = request.into_inner();
        let ciphertext = self.ask(Op::Encrypt, r.key, r.plaintext).await?;
        Ok(Response::new(proto::EncryptResponse { ciphertext }))
    }

    async fn decrypt(
        &self,
        request: Request<proto::DecryptRequest>,
    ) -> Result<Response<proto::DecryptResponse>, Status> {
        let r = request.into_inner();
        let plaintext = self.ask(Op::Decrypt, r.key, r.ciphertext).await?;
        Ok(Response::new(proto::DecryptResponse { plaintext }))
    }
}

/// The key thread: owns the key sources (loaded once, like a CLI run), asks when `prompt`.
fn serve_jobs(sources: KeySources, jobs: mpsc::Receiver<Job>, prompt: bool, verbose: bool) {
    for job in jobs {
        let what = keyservice::describe(&job.key);
        let result = if prompt && !approved(job.op, &what) {
            Err(Status::permission_denied("Request rejected by user"))
        } else {
            answer(&sources, &job)
        };
        if verbose {
            let outcome = match &result {
                Ok(_) => "done".to_string(),
                Err(e) => format!("failed: {}", e.message()),
            };
            eprintln!(
                "[keyservice] {} request using {what}: {outcome}",
                job.op.word()
            );
        }
        let _ = job.reply.send(result);
    }
}

fn answer(sources: &KeySources, job: &Job) -> Result<Zeroizing<Vec<u8>>, Status> {
    match job.op {
        Op::Encrypt => {
            let mut key = keyservice::from_proto(&job.key, "").map_err(Status::not_found)?;
            sources
                .wrap_key(&mut key, &job.data)
                .map_err(Status::unknown)?;
            Ok(Zeroizing::new(key.enc().as_bytes().to_vec()))
        }
        Op::Decrypt => {
            let enc = String::from_utf8(job.data.to_vec())
                .map_err(|_| Status::invalid_argument("the ciphertext is not text"))?;
            let key = keyservice::from_proto(&job.key, &enc).map_err(Status::not_found)?;
            sources.unwrap_key(&key).map_err(Status::unknown)
        }
    }
}

/// sops's question, on the terminal; no answer (end of input) refuses.
fn approved(op: Op, what: &str) -> bool {
    let stdin = std::io::stdin();
    loop {
        print!(
            "\nReceived {} request using {what}. Respond to request? (y/n): ",
            op.word()
        );
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => match line.trim() {
                "y" => return true,
                "n" => return false,
                _ => {}
            },
        }
    }
}

pub fn run(args: &KeyserviceArgs, flags: &Flags) -> CliResult {
    let mut sources = KeySources::new(Box::new(ProcessEnv));
    sources.pgp_search_dirs = std::env::current_dir().into_iter().collect();
    let (jobs, queue) = mpsc::channel();
    let verbose = flags.verbose == Some(true);
    let prompt = args.prompt;
    std::thread::spawn(move || serve_jobs(sources, queue, prompt, verbose));
    let service = proto::key_service_server::KeyServiceServer::new(Service {
        jobs: std::sync::Mutex::new(jobs),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::new(
                code::GENERIC,
                format!("could not start the key service: {e}"),
            )
        })?;
    let network = args.network.as_str();
    let address = args.address.clone();
    runtime.block_on(async move {
        let router = tonic::transport::Server::builder().add_service(service);
        match network {
            "tcp" => {
                let listener = tokio::net::TcpListener::bind(&address).await.map_err(|e| {
                    Failure::new(
                        code::GENERIC,
                        format!("could not listen on tcp://{address}: {e}"),
                    )
                })?;
                eprintln!(
                    "Listening on tcp://{}",
                    listener
                        .local_addr()
                        .map_or(address.clone(), |a| a.to_string())
                );
                router
                    .serve_with_incoming_shutdown(
                        tonic::transport::server::TcpIncoming::from(listener),
                        stopped(),
                    )
                    .await
                    .map_err(|e| {
                        Failure::new(code::GENERIC, format!("the key service failed: {e}"))
                    })
            }
            "unix" => {
                let listener = unix_listener(&address)?;
                eprintln!("Listening on unix://{address}");
                let served = router
                    .serve_with_incoming_shutdown(
                        tokio_stream::wrappers::UnixListenerStream::new(listener),
                        stopped(),
                    )
                    .await;
                let _ = std::fs::remove_file(&address);
                served.map_err(|e| {
                    Failure::new(code::GENERIC, format!("the key service failed: {e}"))
                })
            }
            other => Err(Failure::new(
                code::GENERIC,
                format!("unsupported network {other:?}: use tcp or unix"),
            )),
        }
    })
}

/// A socket at `path` that only this user can connect to: it is bound in a private folder,
/// made 0600 there, then moved into place, so it is never reachable with wider permissions.
fn unix_listener(path: &str) -> CliResult<tokio::net::UnixListener> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let fail = |e: std::io::Error| {
        Failure::new(
            code::GENERIC,
            format!("could not listen on unix://{path}: {e}"),
        )
    };
    let target = std::path::Path::new(path);
    if target.exists() {
        return Err(Failure::new(
            code::GENERIC,
            format!("could not listen on unix://{path}: the path exists"),
        )
        .hint("remove it if no key service runs there, or choose another path"));
    }
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let private = parent.join(format!(".sesame-keyservice.{}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&private)
        .map_err(fail)?;
    let staged = private.join("socket");
    let bound = std::os::unix::net::UnixListener::bind(&staged).and_then(|listener| {
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600))?;
        std::fs::rename(&staged, target)?;
        listener.set_nonblocking(true)?;
        Ok(listener)
    });
    let _ = std::fs::remove_file(&staged);
    let _ = std::fs::remove_dir(&private);
    tokio::net::UnixListener::from_std(bound.map_err(fail)?).map_err(fail)
}

/// Resolves on SIGINT or SIGTERM.
async fn stopped() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    std::future::poll_fn(|cx| {
        if int.poll_recv(cx).is_ready() || term.poll_recv(cx).is_ready() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}
