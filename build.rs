//! Generates the key service's protobuf messages and gRPC client/server from
//! proto/keyservice.proto (only with the `keyservice` feature), with a Rust protobuf compiler.

fn main() {
    println!("cargo:rerun-if-changed=proto/keyservice.proto");
    #[cfg(feature = "keyservice")]
    {
        let files = protox::compile(["proto/keyservice.proto"], ["proto"])
            .expect("proto/keyservice.proto compiles");
        tonic_prost_build::configure()
            .build_client(true)
            .build_server(true)
            .compile_fds(files)
            .expect("the key service's Rust code is generated");
    }
}
