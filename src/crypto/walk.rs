//! The tree walk that decrypts or encrypts every value a file's rule selects and computes the
//! MAC on the way: AAD from the key path, comment contexts for the comment rules.

use crate::crypto::cipher::{self, CipherError, ValueCipher, ValueType};
use crate::crypto::data_key::DataKey;
use crate::crypto::mac::MacHasher;
use crate::gotext;
use crate::rules::Selector;
use crate::secret::{PlainBuffer, SecretBuf};
use crate::tree::{Comment, Entry, Leaf, List, ListItem, Map, MapItem, Node, Scalar};
use std::borrow::Cow;

/// A value that could not be decrypted or encrypted, with the key path where it sits.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("could not decrypt the value at {path}: {source}")]
    Decrypt {
        path: String,
        #[source]
        source: CipherError,
    },
    #[error("the value at {path} should be encrypted but is a plain {kind}")]
    NotEncrypted { path: String, kind: &'static str },
    #[error("the value at {path} decrypted to an invalid {kind}")]
    BadPlaintext { path: String, kind: &'static str },
    #[error("the value at {path} has type {kind}, which sops cannot encrypt")]
    Unsupported { path: String, kind: &'static str },
    #[error(
        "encrypted comment at {path} matches unencrypted_comment_regex; make sure the regex cannot match an encrypted comment"
    )]
    CommentMatchesRule { path: String },
}

/// How to decrypt.
#[derive(Clone, Copy, Debug, Default)]
pub struct DecryptOptions {
    /// The MAC covers only encrypted values (`mac_only_encrypted`).
    pub mac_only: bool,
    /// Keep each value's ciphertext in its leaf, so a save keeps unchanged values byte for byte.
    pub remember_ciphertext: bool,
    /// A value that does not decrypt is kept as stored and reported in `Opened::damaged`
    /// instead of failing the whole file (the editor shows such a file read-only).
    pub keep_damaged: bool,
}

/// A value that did not decrypt, kept as stored: where it sits (the document, then the item
/// position in each container, comments counted) and why.
#[derive(Debug)]
pub struct DamagedValue {
    pub doc: usize,
    pub items: Vec<usize>,
    pub error: SealError,
}

/// The result of decrypting documents.
#[derive(Debug)]
pub struct Opened {
    pub docs: Vec<Map>,
    /// The MAC computed over the decrypted values (meaningless when `damaged` is not empty).
    pub mac: String,
    /// Comments in encrypted positions that did not decrypt and were kept as they are.
    pub undecryptable_comments: usize,
    /// Values that did not decrypt (only with `keep_damaged`), in document order.
    pub damaged: Vec<DamagedValue>,
}

/// The result of encrypting documents.
#[derive(Debug)]
pub struct Sealed {
    pub docs: Vec<Map>,
    pub mac: String,
}

/// Walk state shared by both directions.
struct Walk<'a> {
    selector: &'a Selector,
    mac_only: bool,
    cipher: ValueCipher,
    hasher: MacHasher,
    /// Concatenation of `key:` for each key on the path; the AAD is this, or `:` at the root.
    aad: String,
    /// Byte offsets in `aad` where each path key starts (for error messages).
    key_starts: Vec<usize>,
    /// The item position (comments counted) in each open container, to locate a damaged value.
    positions: Vec<usize>,
    /// Keep values that do not decrypt (see `DecryptOptions::keep_damaged`).
    keep_damaged: bool,
    damaged: Vec<DamagedValue>,
    /// Comment groups, one per open map or list (only kept for the comment rules).
    comments: Vec<Vec<Vec<u8>>>,
    /// Keep each decrypted value's ciphertext in its leaf.
    remember: bool,
    /// When set, MAC input is collected here (in order) instead of hashed, so chunks decrypted
    /// on other threads can be hashed in document order afterwards.
    mac_bytes: Option<PlainBuffer>,
}

impl<'a> Walk<'a> {
    fn new(selector: &'a Selector, mac_only: bool, key: &'a DataKey) -> Self {
        Walk {
            selector,
            mac_only,
            cipher: ValueCipher::new(key),
            hasher: MacHasher::new(mac_only),
            aad: String::new(),
            key_starts: Vec::new(),
            positions: Vec::new(),
            keep_damaged: false,
            damaged: Vec::new(),
            comments: Vec::new(),
            remember: true,
            mac_bytes: None,
        }
    }

    fn for_decrypt(selector: &'a Selector, key: &'a DataKey, opts: DecryptOptions) -> Self {
        let mut walk = Walk::new(selector, opts.mac_only, key);
        walk.remember = opts.remember_ciphertext;
        walk.keep_damaged = opts.keep_damaged;
        walk
    }

    fn aad(&self) -> &[u8] {
        aad_of(&self.aad)
    }

    /// The path as `["a"]["b"]`, the syntax of `--extract` and `set`.
    fn path(&self) -> String {
        if self.key_starts.is_empty() {
            return "the top level".into();
        }
        let mut out = String::new();
        for (i, &start) in self.key_starts.iter().enumerate() {
            let end = self
                .key_starts
                .get(i + 1)
                .copied()
                .unwrap_or(self.aad.len())
                - 1;
            out.push_str(&format!("[\"{}\"]", &self.aad[start..end]));
        }
        out
    }

    fn set_position(&mut self, position: usize) {
        if let Some(last) = self.positions.last_mut() {
            *last = position;
        }
    }

    fn push_key(&mut self, key: &str) {
        self.key_starts.push(self.aad.len());
        self.aad.push_str(key);
        self.aad.push(':');
    }

    fn pop_key(&mut self) {
        let start = self.key_starts.pop().expect("push_key before pop_key");
        self.aad.truncate(start);
    }

    fn open_group(&mut self) {
        if self.selector.uses_comments() {
            self.comments.push(Vec::new());
        }
    }

    fn close_group(&mut self) {
        if self.selector.uses_comments() {
            self.comments.pop();
        }
    }

    fn note_comment(&mut self, text: &[u8]) {
        if let Some(group) = self.comments.last_mut() {
            group.push(text.to_vec());
        }
    }

    fn clear_group(&mut self) {
        if let Some(group) = self.comments.last_mut() {
            group.clear();
        }
    }

    fn should_encrypt(&self, path_matched: bool, is_comment: bool) -> bool {
        self.selector
            .should_encrypt(path_matched, &self.comments, is_comment)
    }

    fn hash(&mut self, encrypted: bool, bytes: &[u8]) {
        if !self.mac_only || encrypted {
            match &mut self.mac_bytes {
                Some(buf) => buf.extend_from_slice(bytes),
                None => self.hasher.update(bytes),
            }
        }
    }
}

/// The AAD of a value: its path's keys, each followed by `:`, or `:` at the root.
fn aad_of(path: &str) -> &[u8] {
    if path.is_empty() {
        b":"
    } else {
        path.as_bytes()
    }
}

/// The bytes sops hashes and encrypts for a value, and its type tag.
fn canonical(value: &Scalar) -> Option<(Cow<'_, [u8]>, ValueType)> {
    Some(match value {
        Scalar::Str(s) => (Cow::Borrowed(s.expose()), ValueType::Str),
        Scalar::Int(i) => (Cow::Owned(i.to_string().into_bytes()), ValueType::Int),
        Scalar::Float(f) => (
            Cow::Owned(gotext::float_f(*f).into_bytes()),
            ValueType::Float,
        ),
        Scalar::Bool(b) => (
            Cow::Borrowed(gotext::bool_title(*b).as_bytes()),
            ValueType::Bool,
        ),
        Scalar::Time(t) => (
            Cow::Owned(gotext::time_nano(t).into_bytes()),
            ValueType::Time,
        ),
        Scalar::Null | Scalar::Uint(_) => return None,
    })
}

/// Slices of fewer top-level entries are decrypted on one thread.
const PARALLEL_MIN_ENTRIES: usize = 64;

/// Decrypts documents in place a slice of top-level items at a time, in document order, so a
/// reader can decrypt what it has read before it reads on (a large file's stored texts are
/// then never all held at once). With a path rule every top-level entry decrypts on its own,
/// so a slice is split among threads, each collecting its MAC input, which is then hashed in
/// document order; comment rules make a value depend on the comments before it, so each
/// document must then come as one slice (see `Selector::uses_comments`), decrypted on one
/// thread.
pub struct Decryptor {
    opts: DecryptOptions,
    threads: usize,
    hasher: MacHasher,
    undecryptable: usize,
    damaged: Vec<DamagedValue>,
    /// The document being decrypted and how many of its top-level items came before.
    doc: usize,
    seen: usize,
}

impl Decryptor {
    pub fn new(opts: DecryptOptions) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Decryptor::on(opts, threads)
    }

    /// A decryptor that decrypts every slice on the calling thread. When each slice is written
    /// out and freed as soon as it is decrypted, a thread per slice costs more CPU (starting it,
    /// a fresh allocator heap, values freed on another thread than the one that made them) than
    /// it saves in wall time: `decrypt` of 100,000 YAML values took 10 % more CPU with it, in
    /// the same wall time on 2 cores.
    pub fn on_one_thread(opts: DecryptOptions) -> Self {
        Decryptor::on(opts, 1)
    }

    fn on(opts: DecryptOptions, threads: usize) -> Self {
        Decryptor {
            opts,
            threads,
            hasher: MacHasher::new(opts.mac_only),
            undecryptable: 0,
            damaged: Vec::new(),
            doc: 0,
            seen: 0,
        }
    }

    /// Decrypts the next top-level items of document `doc` in place (the file's selector and
    /// data key are the same at every call).
    pub fn items(
        &mut self,
        selector: &Selector,
        key: &DataKey,
        doc: usize,
        items: &mut [MapItem],
    ) -> Result<(), SealError> {
        if doc != self.doc {
            self.doc = doc;
            self.seen = 0;
        }
        let offset = self.seen;
        self.seen += items.len();
        let threads = if !selector.uses_comments() && items.len() >= PARALLEL_MIN_ENTRIES {
            self.threads
        } else {
            1
        };
        let per_thread = items.len().div_ceil(threads).max(1);
        let opts = self.opts;
        // A share decrypted on this thread hashes its values into the file's hash as they are
        // decrypted (`hasher`); one on another thread collects its MAC input, hashed in
        // document order once all are done.
        let one_slice = |items: &mut [MapItem], mut hasher: Option<&mut MacHasher>| {
            let mut walk = Walk::for_decrypt(selector, key, opts);
            match hasher.as_deref_mut() {
                Some(hasher) => std::mem::swap(&mut walk.hasher, hasher),
                None => walk.mac_bytes = Some(PlainBuffer::default()),
            }
            let mut bad = 0;
            let decrypted = decrypt_items(&mut walk, items, false, &mut bad);
            if let Some(hasher) = hasher {
                std::mem::swap(&mut walk.hasher, hasher);
            }
            decrypted?;
            let bytes = walk.mac_bytes.take().unwrap_or_default();
            Ok((bad, bytes, walk.damaged))
        };
        type Slice = (usize, PlainBuffer, Vec<DamagedValue>);
        let results: Vec<Result<Slice, SealError>> = if threads == 1 {
            vec![one_slice(items, Some(&mut self.hasher))]
        } else {
            // The first share on this thread: one thread (and allocator heap) fewer.
            std::thread::scope(|scope| {
                let mut shares = items.chunks_mut(per_thread);
                let first = shares.next().expect("a slice of at least one item");
                let others: Vec<_> = shares
                    .map(|items| scope.spawn(move || one_slice(items, None)))
                    .collect();
                let mut results = vec![one_slice(first, Some(&mut self.hasher))];
                results.extend(
                    others
                        .into_iter()
                        .map(|h| h.join().expect("a decrypt thread panicked")),
                );
                results
            })
        };
        for (slice, result) in results.into_iter().enumerate() {
            let (bad, bytes, damaged) = result?;
            // A slice counts its top-level items from zero.
            let offset = offset + slice * per_thread;
            self.damaged.extend(damaged.into_iter().map(|mut d| {
                d.doc = doc;
                if let Some(first) = d.items.first_mut() {
                    *first += offset;
                }
                d
            }));
            self.undecryptable += bad;
            self.hasher.update(&bytes);
        }
        Ok(())
    }

    /// The decrypted documents with their MAC and what did not decrypt.
    pub fn finish(self, docs: Vec<Map>) -> Opened {
        Opened {
            docs,
            mac: self.hasher.finish(),
            undecryptable_comments: self.undecryptable,
            damaged: self.damaged,
        }
    }
}

fn decrypt_comment(walk: &mut Walk, c: &mut Comment, matched: bool, bad: &mut usize) {
    // sops compat: while decrypting, the comment context holds the comments as stored.
    walk.note_comment(c.text.expose());
    if c.text.is_empty() || !walk.should_encrypt(matched, true) {
        return;
    }
    let stored = c.text.to_lossy().into_owned();
    match walk.cipher.decrypt(stored.as_bytes(), walk.aad()) {
        // sops 3.13: an inline comment stays inline.
        Ok((plain, _)) => {
            c.text = plain;
            c.cipher = Some(stored.into());
        }
        // sops compat: a comment that does not decrypt is kept as it is (sops only warns).
        Err(_) => *bad += 1,
    }
}

/// Decrypts a map's items in place (a whole map, or a slice of a document's top level).
fn decrypt_items(
    walk: &mut Walk,
    items: &mut [MapItem],
    matched: bool,
    bad: &mut usize,
) -> Result<(), SealError> {
    walk.open_group();
    walk.positions.push(0);
    for (position, item) in items.iter_mut().enumerate() {
        match item {
            MapItem::Comment(c) => decrypt_comment(walk, c, matched, bad),
            MapItem::Entry(Entry { key, value }) => {
                walk.set_position(position);
                let child_matched = matched || walk.selector.key_matches(key);
                walk.push_key(key);
                if decrypt_node(walk, value, child_matched, bad)?.is_some() {
                    return Err(SealError::BadPlaintext {
                        path: walk.path(),
                        kind: "value (it is a comment)",
                    });
                }
                walk.pop_key();
                walk.clear_group();
            }
        }
    }
    walk.positions.pop();
    walk.close_group();
    Ok(())
}

fn decrypt_list(
    walk: &mut Walk,
    list: &mut List,
    matched: bool,
    bad: &mut usize,
) -> Result<(), SealError> {
    walk.open_group();
    walk.positions.push(0);
    for (position, item) in list.items.iter_mut().enumerate() {
        let turned = match item {
            ListItem::Comment(c) => {
                decrypt_comment(walk, c, matched, bad);
                None
            }
            ListItem::Node(n) => {
                walk.set_position(position);
                let turned = decrypt_node(walk, n, matched, bad)?;
                walk.clear_group();
                turned
            }
        };
        // sops compat: an encrypted list comment is stored as a string element and turns back
        // into a comment here; it is not part of the MAC nor of the comment context.
        if let Some(comment) = turned {
            *item = ListItem::Comment(comment);
        }
    }
    walk.positions.pop();
    walk.close_group();
    Ok(())
}

/// Decrypts a node in place. A stored text that turns out to be an encrypted list comment is
/// returned for the list to put in the node's place.
fn decrypt_node(
    walk: &mut Walk,
    node: &mut Node,
    matched: bool,
    bad: &mut usize,
) -> Result<Option<Comment>, SealError> {
    let leaf = match node {
        Node::Map(m) => return decrypt_items(walk, &mut m.items, matched, bad).map(|()| None),
        Node::List(l) => return decrypt_list(walk, l, matched, bad).map(|()| None),
        Node::Leaf(leaf) => leaf,
    };
    if matches!(leaf.value, Scalar::Null) {
        return Ok(None);
    }
    let encrypted = walk.should_encrypt(matched, false);
    if !encrypted {
        let Some((bytes, _)) = canonical(&leaf.value) else {
            return Err(SealError::Unsupported {
                path: walk.path(),
                kind: leaf.value.type_name(),
            });
        };
        walk.hash(false, &bytes);
        return Ok(None);
    }
    let stored = match &mut leaf.value {
        // Taking the buffer keeps the stored text without a copy. It must be text (what keeps
        // it does, and every way of opening the file gives the same error); an ENC text is
        // ASCII, checked a word at a time.
        Scalar::Str(s) if s.expose().is_ascii() || s.as_str().is_some() => {
            std::mem::take(s).into_bytes()
        }
        Scalar::Str(_) => {
            return Err(SealError::Decrypt {
                path: walk.path(),
                source: CipherError::Malformed,
            });
        }
        other => {
            return Err(SealError::NotEncrypted {
                path: walk.path(),
                kind: other.type_name(),
            });
        }
    };
    if stored.is_empty() {
        walk.hash(true, b"");
        return Ok(None);
    }
    match decrypt_value(walk, &stored) {
        Ok(Plain::Comment(comment)) => Ok(Some(Comment {
            text: comment,
            inline: false,
            cipher: Some(stored_text(walk, stored)?.into()),
        })),
        Ok(Plain::Value(value)) => {
            // The MAC covers the canonical form, not the stored bytes (sops re-serializes).
            let (bytes, _) = canonical(&value).expect("decrypted values are never null");
            walk.hash(true, &bytes);
            leaf.value = value;
            if walk.remember {
                leaf.cipher = Some(stored_text(walk, stored)?.into_boxed_str());
            }
            Ok(None)
        }
        Err(error) if walk.keep_damaged => {
            let stored = stored_text(walk, stored)?;
            // Kept as stored; the MAC can no longer be checked, which the damage explains.
            walk.damaged.push(DamagedValue {
                doc: 0,
                items: walk.positions.clone(),
                error,
            });
            leaf.cipher = Some(stored.clone().into_boxed_str());
            leaf.value = Scalar::Str(SecretBuf::new(stored.into_bytes()));
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// A stored `ENC[...]` text kept as text (`decrypt_node` checked it is).
fn stored_text(walk: &Walk, stored: Vec<u8>) -> Result<String, SealError> {
    String::from_utf8(stored).map_err(|_| SealError::Decrypt {
        path: walk.path(),
        source: CipherError::Malformed,
    })
}

/// A decrypted `ENC[...]` text: a typed value, or an encrypted list comment's text.
enum Plain {
    Value(Scalar),
    Comment(SecretBuf),
}

/// Decrypts one stored `ENC[...]` text.
fn decrypt_value(walk: &Walk, stored: &[u8]) -> Result<Plain, SealError> {
    let (plain, kind) =
        walk.cipher
            .decrypt(stored, walk.aad())
            .map_err(|source| SealError::Decrypt {
                path: walk.path(),
                source,
            })?;
    let bad_plain = |kind| SealError::BadPlaintext {
        path: walk.path(),
        kind,
    };
    let text = || plain.as_str();
    Ok(Plain::Value(match kind {
        // The decrypted buffer itself becomes the value (no second copy of the plaintext).
        ValueType::Str => Scalar::Str(plain),
        ValueType::Int => Scalar::Int(
            text()
                .and_then(gotext::parse_int)
                .ok_or_else(|| bad_plain("int"))?,
        ),
        ValueType::Float => Scalar::Float(
            text()
                .and_then(gotext::parse_float)
                .ok_or_else(|| bad_plain("float"))?,
        ),
        ValueType::Bool => Scalar::Bool(
            text()
                .and_then(gotext::parse_bool)
                .ok_or_else(|| bad_plain("bool"))?,
        ),
        ValueType::Time => Scalar::Time(
            text()
                .and_then(gotext::parse_time)
                .ok_or_else(|| bad_plain("time"))?,
        ),
        ValueType::Comment => {
            return Ok(Plain::Comment(plain));
        }
        ValueType::Bytes => {
            return Err(SealError::Unsupported {
                path: walk.path(),
                kind: "bytes",
            });
        }
    }))
}

/// Values at least this long are hashed for the MAC on another thread while they are encrypted.
const PARALLEL_HASH_MIN: usize = 1 << 20;

/// Encrypts a (large, non-empty) value while a scoped thread adds it to the MAC.
fn hash_beside_encrypting(walk: &mut Walk, bytes: &[u8], kind: ValueType) -> String {
    let Walk {
        hasher,
        mac_bytes,
        cipher,
        aad,
        ..
    } = walk;
    let aad = aad_of(aad);
    std::thread::scope(|scope| {
        let hashing = scope.spawn(|| match mac_bytes {
            Some(buf) => buf.extend_from_slice(bytes),
            None => hasher.update(bytes),
        });
        let enc = cipher.encrypt(bytes, kind, aad);
        hashing.join().expect("the MAC thread does not panic");
        enc
    })
}

/// The one value of a document sealed by `seal_lone_string`: its MAC is known, its `ENC[...]`
/// text is made as it is written.
pub struct LoneValue {
    value: SecretBuf,
    aad: Vec<u8>,
    cipher: ValueCipher,
    /// The document's MAC.
    pub mac: String,
}

/// Plaintext encrypted and written per step of `LoneValue::write_text` (whole chunks of the
/// cipher).
const WRITE_PIECE: usize = 16 * cipher::CHUNK;

impl LoneValue {
    /// The length of the `ENC[...]` text.
    pub fn text_len(&self) -> usize {
        cipher::encrypted_len(self.value.len(), ValueType::Str)
    }

    /// Writes the `ENC[...]` text, encrypting the value a piece at a time.
    pub fn write_text(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut text = String::with_capacity(WRITE_PIECE / 3 * 4 + 256);
        let mut encryption = self.cipher.begin(ValueType::Str, &self.aad, &mut text);
        for piece in self.value.expose().chunks(WRITE_PIECE) {
            encryption.update(piece, &mut text);
            out.write_all(text.as_bytes())?;
            text.clear();
        }
        encryption.finish(&mut text);
        out.write_all(text.as_bytes())
    }
}

/// Takes the value out of a document whose only entry is a string to be newly encrypted (a
/// binary file), to seal it without its ciphertext ever being held whole: the MAC is computed
/// now, the `ENC[...]` text as it is written (`LoneValue::write_text`). `None`, the document
/// untouched, when it is not of that shape (then `encrypt_docs` applies).
pub fn seal_lone_string(
    doc: &mut Map,
    selector: &Selector,
    mac_only: bool,
    key: &DataKey,
) -> Option<LoneValue> {
    let [MapItem::Entry(Entry { key: name, value })] = &mut doc.items[..] else {
        return None;
    };
    let Node::Leaf(Leaf {
        value: Scalar::Str(value),
        cipher: None,
    }) = value
    else {
        return None;
    };
    let mut walk = Walk::new(selector, mac_only, key);
    walk.open_group();
    if value.is_empty() || !walk.should_encrypt(selector.key_matches(name), false) {
        return None;
    }
    walk.push_key(name);
    walk.hash(true, value.expose());
    Some(LoneValue {
        value: std::mem::take(value),
        aad: walk.aad().to_vec(),
        mac: walk.hasher.finish(),
        cipher: walk.cipher,
    })
}

/// Encrypts every selected value of `docs`, reusing each leaf's remembered ciphertext when it
/// has one, and computes the MAC.
pub fn encrypt_docs(
    docs: &[Map],
    selector: &Selector,
    mac_only: bool,
    key: &DataKey,
) -> Result<Sealed, SealError> {
    let mut walk = Walk::new(selector, mac_only, key);
    let mut out = Vec::with_capacity(docs.len());
    for doc in docs {
        out.push(encrypt_map(&mut walk, doc, false)?);
    }
    Ok(Sealed {
        docs: out,
        mac: walk.hasher.finish(),
    })
}

/// The stored text of a comment: `None` if it stays in clear.
fn encrypt_comment(
    walk: &mut Walk,
    c: &Comment,
    matched: bool,
) -> Result<Option<String>, SealError> {
    walk.note_comment(c.text.expose());
    if c.text.is_empty() || !walk.should_encrypt(matched, true) {
        return Ok(None);
    }
    let enc = match &c.cipher {
        Some(enc) => enc.to_string(),
        None => walk
            .cipher
            .encrypt(c.text.expose(), ValueType::Comment, walk.aad()),
    };
    if walk.selector.unencrypted_comment_matches(&enc) {
        return Err(SealError::CommentMatchesRule { path: walk.path() });
    }
    Ok(Some(enc))
}

fn encrypt_map(walk: &mut Walk, map: &Map, matched: bool) -> Result<Map, SealError> {
    walk.open_group();
    let mut items = Vec::with_capacity(map.items.len());
    for item in &map.items {
        match item {
            MapItem::Comment(c) => {
                let comment = match encrypt_comment(walk, c, matched)? {
                    Some(enc) => Comment {
                        inline: c.inline,
                        ..Comment::new(enc)
                    },
                    None => plain_comment(c),
                };
                items.push(MapItem::Comment(comment));
            }
            MapItem::Entry(Entry { key, value }) => {
                let child_matched = matched || walk.selector.key_matches(key);
                walk.push_key(key);
                let value = encrypt_node(walk, value, child_matched)?;
                walk.pop_key();
                walk.clear_group();
                items.push(MapItem::Entry(Entry {
                    key: key.clone(),
                    value,
                }));
            }
        }
    }
    walk.close_group();
    Ok(Map { items })
}

fn plain_comment(c: &Comment) -> Comment {
    Comment {
        text: c.text.clone(),
        inline: c.inline,
        cipher: None,
    }
}

fn encrypt_list(walk: &mut Walk, list: &List, matched: bool) -> Result<List, SealError> {
    walk.open_group();
    let mut items = Vec::with_capacity(list.items.len());
    for item in &list.items {
        match item {
            ListItem::Comment(c) => {
                // sops compat: an encrypted comment in a list is stored as a string element.
                items.push(match encrypt_comment(walk, c, matched)? {
                    Some(enc) => ListItem::Node(Node::string(enc)),
                    None => ListItem::Comment(plain_comment(c)),
                });
            }
            ListItem::Node(n) => {
                items.push(ListItem::Node(encrypt_node(walk, n, matched)?));
                walk.clear_group();
            }
        }
    }
    walk.close_group();
    Ok(List { items })
}

fn encrypt_node(walk: &mut Walk, node: &Node, matched: bool) -> Result<Node, SealError> {
    let leaf = match node {
        Node::Map(m) => return Ok(Node::Map(encrypt_map(walk, m, matched)?)),
        Node::List(l) => return Ok(Node::List(encrypt_list(walk, l, matched)?)),
        Node::Leaf(leaf) => leaf,
    };
    if matches!(leaf.value, Scalar::Null) {
        return Ok(Node::scalar(Scalar::Null));
    }
    let Some((bytes, kind)) = canonical(&leaf.value) else {
        return Err(SealError::Unsupported {
            path: walk.path(),
            kind: leaf.value.type_name(),
        });
    };
    let encrypted = walk.should_encrypt(matched, false);
    if encrypted && leaf.cipher.is_none() && bytes.len() >= PARALLEL_HASH_MIN {
        // A large value (a binary file): its MAC input is hashed on a second core while
        // the first encrypts it.
        return Ok(Node::string(hash_beside_encrypting(walk, &bytes, kind)));
    }
    walk.hash(encrypted, &bytes);
    if !encrypted {
        return Ok(Node::scalar(leaf.value.clone()));
    }
    if bytes.is_empty() {
        // sops compat: empty strings are stored as they are.
        return Ok(Node::string(""));
    }
    let enc = match &leaf.cipher {
        Some(enc) => enc.to_string(),
        None => walk.cipher.encrypt(&bytes, kind, walk.aad()),
    };
    Ok(Node::string(enc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Rule, RuleKind};
    use crate::tree::{Leaf, List};

    /// Decrypts whole documents on `threads` threads.
    fn decrypt_docs_on(
        mut docs: Vec<Map>,
        selector: &Selector,
        key: &DataKey,
        opts: DecryptOptions,
        threads: usize,
    ) -> Result<Opened, SealError> {
        let mut decryptor = Decryptor::on(opts, threads);
        for (i, doc) in docs.iter_mut().enumerate() {
            decryptor.items(selector, key, i, &mut doc.items)?;
        }
        Ok(decryptor.finish(docs))
    }

    fn big_doc() -> Map {
        let mut doc = Map::new();
        doc.items.push(MapItem::Comment(Comment::new(" top")));
        for i in 0..200 {
            let value = match i % 6 {
                0 => Node::string(format!("secret-{i}")),
                1 => Node::scalar(Scalar::Int(i)),
                2 => Node::scalar(Scalar::Float(i as f64 / 4.0)),
                3 => Node::scalar(Scalar::Bool(i % 2 == 0)),
                4 => {
                    let mut l = List::new();
                    l.items.push(ListItem::Node(Node::string("x")));
                    l.items.push(ListItem::Comment(Comment::new("in list")));
                    l.items.push(ListItem::Node(Node::scalar(Scalar::Null)));
                    Node::List(l)
                }
                _ => {
                    let mut m = Map::new();
                    m.push("inner", Node::string(""));
                    m.push("deep_unencrypted", Node::string("clear"));
                    Node::Map(m)
                }
            };
            doc.push(format!("key{i}"), value);
        }
        doc
    }

    #[test]
    fn parallel_and_sequential_decryption_agree() {
        let key = DataKey::generate();
        for (rule, mac_only) in [
            (Rule::default_suffix(), false),
            (Rule::new(RuleKind::EncryptedRegex, "^key1"), true),
        ] {
            let selector = Selector::new(&rule);
            let plain = vec![big_doc(), big_doc()];
            let sealed = encrypt_docs(&plain, &selector, mac_only, &key).unwrap();
            let opts = DecryptOptions {
                mac_only,
                remember_ciphertext: true,
                keep_damaged: false,
            };
            let one = decrypt_docs_on(sealed.docs.clone(), &selector, &key, opts, 1).unwrap();
            let two = decrypt_docs_on(sealed.docs.clone(), &selector, &key, opts, 2).unwrap();
            assert_eq!(one.mac, sealed.mac);
            assert_eq!(two.mac, sealed.mac);
            assert_eq!(one.docs, two.docs);
        }
    }

    /// Replaces the text of the `n`-th encrypted leaf (document order) of a sealed document.
    fn damage(map: &mut Map, n: &mut usize, with: &[u8]) -> bool {
        for item in &mut map.items {
            if let MapItem::Entry(e) = item {
                let hit = match &mut e.value {
                    Node::Map(m) => damage(m, n, with),
                    Node::List(l) => l.items.iter_mut().any(|i| match i {
                        ListItem::Node(Node::Map(m)) => damage(m, n, with),
                        ListItem::Node(Node::Leaf(leaf)) => damage_leaf(leaf, n, with),
                        _ => false,
                    }),
                    Node::Leaf(leaf) => damage_leaf(leaf, n, with),
                };
                if hit {
                    return true;
                }
            }
        }
        false
    }

    fn stored(leaf: &Leaf) -> &[u8] {
        match &leaf.value {
            Scalar::Str(s) => s.expose(),
            _ => b"",
        }
    }

    fn damage_leaf(leaf: &mut Leaf, n: &mut usize, with: &[u8]) -> bool {
        let Scalar::Str(s) = &leaf.value else {
            return false;
        };
        if !s.expose().starts_with(b"ENC[") {
            return false;
        }
        if *n > 0 {
            *n -= 1;
            return false;
        }
        leaf.value = Scalar::Str(SecretBuf::new(with.to_vec()));
        true
    }

    #[test]
    fn a_stored_text_that_is_not_utf8_is_malformed_however_opened() {
        // A valid value with a byte after its `]` that is not UTF-8 (an INI or dotenv value
        // can hold one): every way of opening gives the same error (the fuzzer found the
        // editor's way and decrypt's giving different ones).
        let key = DataKey::generate();
        let selector = Selector::new(&Rule::default_suffix());
        let mut sealed = encrypt_docs(&[big_doc()], &selector, false, &key)
            .unwrap()
            .docs;
        let valid = match sealed[0].get("key0") {
            Some(Node::Leaf(l)) => stored(l).to_vec(),
            _ => unreachable!(),
        };
        let mut bad = valid.clone();
        bad.extend_from_slice(b"d \x8b= x");
        assert!(damage(&mut sealed[0], &mut 0, &bad));
        for threads in [1, 2] {
            for (remember_ciphertext, keep_damaged) in [(false, false), (true, false), (true, true)]
            {
                let opts = DecryptOptions {
                    mac_only: false,
                    remember_ciphertext,
                    keep_damaged,
                };
                let err = decrypt_docs_on(sealed.clone(), &selector, &key, opts, threads);
                assert!(
                    matches!(
                        err,
                        Err(SealError::Decrypt {
                            source: CipherError::Malformed,
                            ..
                        })
                    ),
                    "{opts:?} on {threads}: {err:?}"
                );
            }
        }
    }

    #[test]
    fn a_damaged_value_is_kept_as_stored_and_located_on_request() {
        let key = DataKey::generate();
        let selector = Selector::new(&Rule::default_suffix());
        let plain = vec![big_doc(), big_doc()];
        let mut sealed = encrypt_docs(&plain, &selector, false, &key).unwrap().docs;
        // Another value's ciphertext: valid, but under another path (its AAD fails).
        let moved = match sealed[1].get("key0") {
            Some(Node::Leaf(l)) => String::from_utf8(stored(l).to_vec()).unwrap(),
            _ => unreachable!(),
        };
        assert!(damage(&mut sealed[1], &mut 150, moved.as_bytes()));
        for threads in [1, 2] {
            let strict = DecryptOptions {
                remember_ciphertext: true,
                ..Default::default()
            };
            let err = decrypt_docs_on(sealed.clone(), &selector, &key, strict, threads);
            assert!(matches!(err, Err(SealError::Decrypt { .. })), "{err:?}");
            let lenient = DecryptOptions {
                keep_damaged: true,
                ..strict
            };
            let opened =
                decrypt_docs_on(sealed.clone(), &selector, &key, lenient, threads).unwrap();
            assert_eq!(opened.damaged.len(), 1, "{threads} thread(s)");
            let d = &opened.damaged[0];
            assert_eq!(d.doc, 1);
            // The item the walk names holds the stored text, kept as it was.
            let mut node = opened.docs[1].items.get(d.items[0]);
            let mut leaf = None;
            for &pos in &d.items[1..] {
                node = match node {
                    Some(MapItem::Entry(Entry {
                        value: Node::Map(m),
                        ..
                    })) => m.items.get(pos),
                    Some(MapItem::Entry(Entry {
                        value: Node::List(l),
                        ..
                    })) => {
                        leaf = match l.items.get(pos) {
                            Some(ListItem::Node(Node::Leaf(x))) => Some(x),
                            _ => None,
                        };
                        None
                    }
                    _ => None,
                };
            }
            let leaf = leaf.or(match node {
                Some(MapItem::Entry(Entry {
                    value: Node::Leaf(x),
                    ..
                })) => Some(x),
                _ => None,
            });
            let leaf = leaf.expect("the damaged leaf is where the walk says");
            assert_eq!(stored(leaf), moved.as_bytes());
            assert_eq!(leaf.cipher.as_deref(), Some(moved.as_str()));
        }
    }

    #[test]
    fn documents_decrypted_in_slices_are_decrypted_as_whole_ones() {
        // A reader hands the top level on in slices as it parses: every slicing must give the
        // documents, MAC and damaged value positions of decrypting each document at once.
        let key = DataKey::generate();
        let selector = Selector::new(&Rule::default_suffix());
        let plain = vec![big_doc(), big_doc()];
        let mut sealed = encrypt_docs(&plain, &selector, false, &key).unwrap();
        let moved = match sealed.docs[0].get("key0") {
            Some(Node::Leaf(l)) => String::from_utf8(stored(l).to_vec()).unwrap(),
            _ => unreachable!(),
        };
        assert!(damage(&mut sealed.docs[1], &mut 150, moved.as_bytes()));
        let opts = DecryptOptions {
            keep_damaged: true,
            ..Default::default()
        };
        let whole = decrypt_docs_on(sealed.docs.clone(), &selector, &key, opts, 1).unwrap();
        let positions = |o: &Opened| -> Vec<(usize, Vec<usize>)> {
            o.damaged.iter().map(|d| (d.doc, d.items.clone())).collect()
        };
        assert_eq!(positions(&whole).len(), 1);
        for threads in [1, 2] {
            for size in [1, 7, 64, 150, 500] {
                let mut decryptor = Decryptor::on(opts, threads);
                let mut docs = sealed.docs.clone();
                for (i, doc) in docs.iter_mut().enumerate() {
                    for slice in doc.items.chunks_mut(size) {
                        decryptor.items(&selector, &key, i, slice).unwrap();
                    }
                }
                let sliced = decryptor.finish(docs);
                let at = format!("slices of {size} on {threads} thread(s)");
                assert_eq!(sliced.docs, whole.docs, "{at}");
                assert_eq!(sliced.mac, whole.mac, "{at}");
                assert_eq!(positions(&sliced), positions(&whole), "{at}");
            }
        }
    }
}
