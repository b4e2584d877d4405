//! An opened SOPS file: plaintext documents, metadata and data key. The façade both front ends
//! use to open, edit and seal a file.

use crate::crypto::cipher::CipherError;
use crate::crypto::data_key::DataKey;
use crate::crypto::mac;
use crate::crypto::walk::{self, SealError};
use crate::edit;
use crate::edit::exposure::Baseline;
use crate::edit::merge::Reapply;
use crate::edit::ops::{self, Op, OpError};
use crate::gotext;
use crate::keys::KeyGroup;
use crate::keys::groups::{self, KeySources, UnwrapReport};
use crate::keys::plan::Plan;
use crate::metadata::{FORMAT_VERSION, FieldOrder, Metadata, MetadataError};
use crate::path::{LookupError, TreePath};
use crate::rules::{Rule, Selector};
use crate::store::{self, EmitOptions, Format, MetadataSource, StoreError};
use crate::tree::{ListItem, Map, MapItem, Node};
use std::ops::Range;

/// Why a file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0}")]
    Parse(#[from] StoreError),
    #[error("{0}")]
    Metadata(#[from] MetadataError),
    #[error("{0}")]
    Keys(Box<UnwrapReport>),
    #[error("Error decrypting tree: {0}")]
    Decrypt(#[from] SealError),
    #[error("Cannot decrypt MAC: {0}")]
    MacUndecryptable(CipherError),
    #[error("MAC mismatch. File has {stored}, computed {computed}")]
    MacMismatch { stored: String, computed: String },
}

/// Why a file could not be sealed (encrypted for writing).
#[derive(Debug, thiserror::Error)]
pub enum SealFileError {
    #[error("Error encrypting tree: {0}")]
    Encrypt(#[from] SealError),
    #[error("{0}")]
    Emit(#[from] StoreError),
    #[error("{0}")]
    Keys(String),
    #[error(
        "{0}; a file with a value that does not decrypt is not written (restore the value from version control)"
    )]
    Damaged(String),
}

/// Options for opening.
#[derive(Clone, Copy, Debug)]
pub struct OpenOptions {
    /// Skip the MAC check (sops `--ignore-mac`).
    pub ignore_mac: bool,
    /// Remember each value's ciphertext so a save keeps unchanged values byte for byte. Off
    /// only for read-only uses (decrypt), where it saves memory.
    pub keep_ciphertext: bool,
    /// Open a file whose values do not all decrypt: such values stay as stored, listed by
    /// `damaged`, and the document cannot be sealed (the editor shows it read-only).
    pub keep_damaged: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            ignore_mac: false,
            keep_ciphertext: true,
            keep_damaged: false,
        }
    }
}

/// Settings for a file encrypted for the first time.
#[derive(Clone, Debug, Default)]
pub struct NewFile {
    /// Recipients per group; their `enc` fields are filled in when sealing.
    pub key_groups: Vec<KeyGroup>,
    pub shamir_threshold: i64,
    pub rule: Option<Rule>,
    pub mac_only_encrypted: bool,
    /// Which sops version's layout the new file follows.
    pub layout: Layout,
}

/// The two layouts sops writes new files in. Both read the same in every sops version; an
/// existing file keeps its own (field order detected, inline comments kept where they are).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// sops up to 3.12: metadata fields in the record's declared order; a comment after a value
    /// (`a: 1 # c`) moves to its own line above.
    #[default]
    Sops311,
    /// sops 3.13: metadata fields sorted by name; comments after values stay inline.
    Sops313,
}

impl Layout {
    /// `3.11` (also `3.12`) or `3.13`.
    pub fn from_name(name: &str) -> Option<Layout> {
        match name {
            "3.11" | "3.12" => Some(Layout::Sops311),
            "3.13" => Some(Layout::Sops313),
            _ => None,
        }
    }

    fn field_order(self) -> FieldOrder {
        match self {
            Layout::Sops311 => FieldOrder::Declared,
            Layout::Sops313 => FieldOrder::Sorted,
        }
    }
}

/// What is kept of the file as read, so a save can reuse its metadata text.
#[derive(Debug)]
struct Source {
    /// The metadata block's text, when the layout allows reusing it.
    text: Option<MetadataText>,
    /// The metadata as read, to tell whether anything but `lastmodified`/`mac` changed.
    original: Metadata,
}

/// A metadata block's text with the places of its `lastmodified` and `mac` values (relative to
/// the text, in text order).
#[derive(Debug)]
struct MetadataText {
    text: Vec<u8>,
    first: (Range<usize>, Stamp),
    second: (Range<usize>, Stamp),
}

#[derive(Debug, Clone, Copy)]
enum Stamp {
    LastModified,
    Mac,
}

impl MetadataText {
    /// Cuts the block out of the input, if its spans are usable.
    fn from_source(bytes: &[u8], source: &MetadataSource) -> Option<MetadataText> {
        let span = source.span.clone()?;
        let lm = source.lastmodified.clone()?;
        let mac = source.mac.clone()?;
        let (first, second) = if lm.start < mac.start {
            ((lm, Stamp::LastModified), (mac, Stamp::Mac))
        } else {
            ((mac, Stamp::Mac), (lm, Stamp::LastModified))
        };
        if first.0.end > second.0.start || first.0.start < span.start || second.0.end > span.end {
            return None;
        }
        let rel = |r: Range<usize>| r.start - span.start..r.end - span.start;
        Some(MetadataText {
            text: bytes.get(span.clone())?.to_vec(),
            first: (rel(first.0), first.1),
            second: (rel(second.0), second.1),
        })
    }

    /// The text with new `lastmodified` and `mac` values, spelled like the old ones.
    fn with(&self, lastmodified: &str, mac: &str) -> Vec<u8> {
        let value = |stamp: Stamp| match stamp {
            Stamp::LastModified => lastmodified,
            Stamp::Mac => mac,
        };
        let t = &self.text;
        let (a, b) = (&self.first, &self.second);
        let mut out = Vec::with_capacity(t.len() + 64);
        out.extend_from_slice(&t[..a.0.start]);
        out.extend_from_slice(respell(&t[a.0.clone()], value(a.1)).as_bytes());
        out.extend_from_slice(&t[a.0.end..b.0.start]);
        out.extend_from_slice(respell(&t[b.0.clone()], value(b.1)).as_bytes());
        out.extend_from_slice(&t[b.0.end..]);
        out
    }
}

/// An opened, decrypted SOPS file.
pub struct Document {
    format: Format,
    docs: Vec<Map>,
    metadata: Metadata,
    data_key: DataKey,
    source: Option<Source>,
    changed: bool,
    /// The key groups changed (recipients added or removed): the file must be rewritten, but
    /// `lastmodified` and the MAC stay, as no value changed.
    keys_changed: bool,
    /// Comments in encrypted positions that did not decrypt (kept as they are).
    pub undecryptable_comments: usize,
    /// Indentation the file was written with, kept on save.
    own_indent: Option<i64>,
    /// The order of the metadata's fields, as the file was written or as asked for a new one.
    field_order: FieldOrder,
    /// Opened with `ignore_mac` although the MAC did not match: what was wrong, for a warning.
    mac_problem: Option<String>,
    /// Values that did not decrypt, kept as stored (`OpenOptions::keep_damaged`).
    damaged: Vec<walk::DamagedValue>,
    /// What was encrypted and what was plain before the first edit since opening or sealing,
    /// to tell when a save would store a secret in plain text.
    baseline: Option<Baseline>,
    /// What the last seal stored in plain text although it was encrypted before.
    last_exposed: Vec<String>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("format", &self.format)
            .field("changed", &self.changed)
            .finish_non_exhaustive()
    }
}

/// The MAC problem of a file with values that do not decrypt.
fn damage_summary(damaged: &[walk::DamagedValue]) -> String {
    match damaged {
        [one] => one.error.to_string(),
        [first, rest @ ..] => format!(
            "{first} (and {} more value(s))",
            rest.len(),
            first = first.error
        ),
        [] => String::new(),
    }
}

/// Parses an encrypted file without decrypting it: documents with `ENC[...]` leaves and the
/// metadata (for `filestatus`, review mode and key reports).
pub fn inspect(format: Format, bytes: &[u8]) -> Result<(store::Parsed, Metadata), OpenError> {
    let parsed = store::parse(format, bytes)?;
    let source = parsed.metadata.as_ref().ok_or(MetadataError::NotFound)?;
    let metadata = Metadata::from_tree(&source.tree)?;
    Ok((parsed, metadata))
}

/// A sealed file, ready to write: its text, or a binary file's JSON envelope around its value,
/// which is encrypted as it is written (a large file's text is never held whole).
pub enum SealedFile {
    Text(Vec<u8>),
    Envelope {
        head: Vec<u8>,
        /// Boxed: it holds the cipher's key schedules.
        value: Box<walk::LoneValue>,
        tail: Vec<u8>,
    },
}

impl SealedFile {
    /// The length of the file.
    pub fn len(&self) -> usize {
        match self {
            SealedFile::Text(text) => text.len(),
            SealedFile::Envelope { head, value, tail } => {
                head.len() + value.text_len() + tail.len()
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the file.
    pub fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            SealedFile::Text(text) => out.write_all(text),
            SealedFile::Envelope { head, value, tail } => {
                out.write_all(head)?;
                value.write_text(out)?;
                out.write_all(tail)
            }
        }
    }

    /// The file's text.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            SealedFile::Text(text) => text,
            file => {
                let mut text = Vec::with_capacity(file.len());
                file.write_to(&mut text)
                    .expect("writing to memory does not fail");
                text
            }
        }
    }
}

/// `Document::open`'s work while the file is parsed: reads the metadata and unwraps the data
/// key; without `keep_ciphertext` it also decrypts the values as the parser hands them on, so
/// each stored text is dropped before the next slice of the file is read. A document that
/// keeps its stored texts would save nothing that way, and is decrypted once parsed, after
/// the input is freed.
struct Opening<'s> {
    sources: &'s KeySources,
    opts: OpenOptions,
    unlocked: Option<Unlocked>,
    /// The first error, reported once parsing is done (a parse error wins, as before any
    /// key is asked for).
    failed: Option<OpenError>,
    /// The metadata the reading started with: a parser that gives up reading in one pass
    /// starts again with the same metadata, and the key is not asked for twice.
    started_with: Option<Map>,
    /// Slices are decrypted on the reading thread (see `walk::Decryptor::on_one_thread`).
    one_thread: bool,
}

struct Unlocked {
    metadata: Metadata,
    data_key: DataKey,
    selector: Selector,
    decryptor: walk::Decryptor,
}

impl<'s> Opening<'s> {
    fn new(sources: &'s KeySources, opts: OpenOptions) -> Self {
        Opening {
            sources,
            opts,
            unlocked: None,
            failed: None,
            started_with: None,
            one_thread: false,
        }
    }

    /// What the reading worked out once the file is parsed: its first error, or the unwrapped
    /// key with the file's metadata (a file without metadata has neither).
    fn finish(self, parsed: &store::Parsed) -> Result<(Unlocked, &MetadataSource), OpenError> {
        if let Some(failed) = self.failed {
            return Err(failed);
        }
        match (self.unlocked, &parsed.metadata) {
            (Some(unlocked), Some(meta)) => Ok((unlocked, meta)),
            _ => Err(MetadataError::NotFound.into()),
        }
    }

    fn unlock(&self, source: &MetadataSource) -> Result<Unlocked, OpenError> {
        let metadata = Metadata::from_tree(&source.tree)?;
        let data_key = groups::unwrap_data_key(
            &metadata.key_groups,
            metadata.shamir_threshold,
            self.sources,
        )
        .map_err(|r| OpenError::Keys(Box::new(r)))?;
        let selector = Selector::new(&metadata.effective_rule());
        let decryptor = decryptor(&self.opts, self.one_thread, &metadata);
        Ok(Unlocked {
            metadata,
            data_key,
            selector,
            decryptor,
        })
    }
}

fn decryptor(opts: &OpenOptions, one_thread: bool, metadata: &Metadata) -> walk::Decryptor {
    let opts = walk::DecryptOptions {
        mac_only: metadata.mac_only_encrypted,
        remember_ciphertext: opts.keep_ciphertext,
        keep_damaged: opts.keep_damaged,
    };
    if one_thread {
        walk::Decryptor::on_one_thread(opts)
    } else {
        walk::Decryptor::new(opts)
    }
}

impl store::Reading for Opening<'_> {
    fn start(&mut self, metadata: Option<&MetadataSource>) -> bool {
        let tree = metadata.map(|m| &m.tree);
        if tree.is_some() && tree == self.started_with.as_ref() {
            // The same file read again from its start: its values are decrypted anew.
            if let Some(u) = &mut self.unlocked {
                u.decryptor = decryptor(&self.opts, self.one_thread, &u.metadata);
                self.failed = None;
            }
        } else {
            self.started_with = tree.cloned();
            self.unlocked = None;
            self.failed = None;
            let unlocked = match metadata {
                Some(source) => self.unlock(source),
                None => Err(MetadataError::NotFound.into()),
            };
            match unlocked {
                Ok(u) => self.unlocked = Some(u),
                Err(e) => self.failed = Some(e),
            }
        }
        self.unlocked.is_some() && !self.opts.keep_ciphertext
    }

    fn takes_slices(&self) -> bool {
        // Comment rules make a value depend on the comments before it.
        self.unlocked
            .as_ref()
            .is_some_and(|u| !u.selector.uses_comments())
    }

    fn items(&mut self, doc: usize, items: &mut [MapItem]) -> bool {
        let Some(u) = &mut self.unlocked else {
            return false;
        };
        match u.decryptor.items(&u.selector, &u.data_key, doc, items) {
            Ok(()) => true,
            Err(e) => {
                self.failed = Some(e.into());
                false
            }
        }
    }
}

/// Checks the MAC the decrypted values give against the file's: a mismatch fails unless
/// `ignore_mac`, and is then the document's MAC problem. A value that did not decrypt (kept
/// only with `keep_damaged`) fails the same way.
fn check_mac(
    opened: &mut walk::Opened,
    data_key: &DataKey,
    metadata: &Metadata,
    opts: OpenOptions,
) -> Result<Option<String>, OpenError> {
    // The MAC is checked even when ignored, so a front end can warn about it.
    let checked = match mac::decrypt_mac(data_key, &metadata.mac, &metadata.lastmodified) {
        Err(e) => Err(OpenError::MacUndecryptable(e)),
        Ok(stored) if stored != opened.mac => Err(OpenError::MacMismatch {
            stored: if stored.is_empty() {
                "no MAC".into()
            } else {
                stored
            },
            computed: std::mem::take(&mut opened.mac),
        }),
        Ok(_) => Ok(()),
    };
    if opened.damaged.is_empty() {
        match checked {
            Err(e) if !opts.ignore_mac => Err(e),
            Err(e) => Ok(Some(e.to_string())),
            Ok(()) => Ok(None),
        }
    } else if !opts.ignore_mac {
        Err(OpenError::Decrypt(opened.damaged.swap_remove(0).error))
    } else {
        // Values that do not decrypt leave nothing to compare the MAC with.
        Ok(Some(damage_summary(&opened.damaged)))
    }
}

/// A decrypted file's plaintext, as `sesame decrypt` writes it.
pub struct Decrypted {
    pub text: crate::secret::PlainBuffer,
    /// Comments that looked encrypted but did not decrypt (older sops versions).
    pub undecryptable_comments: usize,
}

/// Why a file could not be decrypted to its plaintext.
#[derive(Debug, thiserror::Error)]
pub enum DecryptError {
    #[error("{0}")]
    Open(#[from] OpenError),
    /// The plaintext could not be written in the format asked for.
    #[error("{0}")]
    Emit(StoreError),
}

/// `Document::decrypt`'s reading: the top level is written out a slice at a time as it is
/// decrypted (when the parser reads the file in one pass), and dropped.
struct Streaming<'s> {
    opening: Opening<'s>,
    format: Format,
    emit: EmitOptions,
    capacity: usize,
    /// The plaintext so far; `None` until a slice is written, and again when the parser starts
    /// over (it then reads the file whole and keeps the tree).
    writer: Option<store::PlainWriter>,
}

impl store::Reading for Streaming<'_> {
    fn start(&mut self, metadata: Option<&MetadataSource>) -> bool {
        self.writer = None;
        self.opening.start(metadata)
    }

    fn takes_slices(&self) -> bool {
        self.opening.takes_slices()
    }

    fn items(&mut self, doc: usize, items: &mut [MapItem]) -> bool {
        self.opening.items(doc, items)
    }

    fn lets_drop(&self) -> bool {
        true
    }

    fn dropping(&mut self, _doc: usize, items: &[MapItem]) -> bool {
        let writer = match &mut self.writer {
            Some(w) => w,
            None => match store::PlainWriter::new(self.format, &self.emit, self.capacity) {
                Ok(w) => self.writer.insert(w),
                Err(_) => return false,
            },
        };
        // A failure is the whole read's to report.
        writer.items(items).is_ok()
    }
}

impl Document {
    /// Decrypts an encrypted file in memory and verifies its MAC.
    pub fn open(
        format: Format,
        bytes: Vec<u8>,
        sources: &KeySources,
        opts: OpenOptions,
    ) -> Result<Document, OpenError> {
        let mut opening = Opening::new(sources, opts);
        let parsed = store::parse_reading(format, &bytes, &mut opening)?;
        let (
            Unlocked {
                metadata,
                data_key,
                selector,
                mut decryptor,
            },
            meta,
        ) = opening.finish(&parsed)?;
        // Keep only what a save needs of the input.
        let own_indent = detect_indent(format, &bytes, Some(meta));
        let source = Some(Source {
            // sops drops what it would not write itself (an old file's `kms: []`, unknown
            // fields) on every save, so such a block is written anew rather than reused.
            text: same_fields(&meta.tree, &metadata.to_tree(FieldOrder::Sorted))
                .then(|| MetadataText::from_source(&bytes, meta))
                .flatten(),
            original: metadata.clone(),
        });
        let field_order = field_order(format, FieldOrder::of(&meta.tree));
        drop(bytes);
        let mut docs = parsed.docs;
        if opts.keep_ciphertext {
            for (i, doc) in docs.iter_mut().enumerate() {
                decryptor.items(&selector, &data_key, i, &mut doc.items)?;
            }
        }
        let mut opened = decryptor.finish(docs);
        let mac_problem = check_mac(&mut opened, &data_key, &metadata, opts)?;
        Ok(Document {
            format,
            docs: opened.docs,
            metadata,
            data_key,
            source,
            changed: false,
            keys_changed: false,
            undecryptable_comments: opened.undecryptable_comments,
            own_indent,
            field_order,
            mac_problem,
            damaged: opened.damaged,
            baseline: None,
            last_exposed: Vec::new(),
        })
    }

    /// `open` then `plain_bytes` for a decrypt that needs nothing else of the file: a YAML or
    /// JSON file written in its own format is written out while it is read, a slice of its
    /// top level at a time, so its plaintext tree is never whole. The text is only returned
    /// once the MAC checks.
    pub fn decrypt(
        format: Format,
        bytes: Vec<u8>,
        sources: &KeySources,
        opts: OpenOptions,
        out: Format,
        emit: &EmitOptions,
    ) -> Result<Decrypted, DecryptError> {
        if !store::PlainWriter::streams(format, out) || opts.keep_ciphertext || opts.keep_damaged {
            let doc = Document::open(format, bytes, sources, opts)?;
            return Ok(Decrypted {
                text: doc
                    .plain_bytes(out, emit)
                    .map_err(DecryptError::Emit)?
                    .into(),
                undecryptable_comments: doc.undecryptable_comments,
            });
        }
        let mut streaming = Streaming {
            opening: Opening {
                one_thread: true,
                ..Opening::new(sources, opts)
            },
            format,
            emit: *emit,
            // Room for the plaintext, which is shorter than the file: what is not written to
            // is not resident, and the text is not moved (and copied) as it grows.
            capacity: bytes.len() + bytes.len() / 4 + 4096,
            writer: None,
        };
        let parsed =
            store::parse_reading(format, &bytes, &mut streaming).map_err(OpenError::from)?;
        drop(bytes);
        let (
            Unlocked {
                metadata,
                data_key,
                decryptor,
                ..
            },
            _,
        ) = streaming.opening.finish(&parsed)?;
        let mut opened = decryptor.finish(parsed.docs);
        check_mac(&mut opened, &data_key, &metadata, opts)?;
        let text = match streaming.writer.take() {
            Some(writer) => writer.finish().map_err(DecryptError::Emit)?,
            // Read whole (another shape of file): written from the tree.
            None => store::emit_plain(out, &opened.docs, emit)
                .map_err(DecryptError::Emit)?
                .into(),
        };
        Ok(Decrypted {
            text,
            undecryptable_comments: opened.undecryptable_comments,
        })
    }

    /// A new document from plaintext trees: generates a data key and wraps it for every
    /// recipient. Nothing is encrypted until `seal`.
    pub fn create(
        format: Format,
        docs: Vec<Map>,
        settings: NewFile,
        sources: &KeySources,
    ) -> Result<Document, SealFileError> {
        let mut docs = docs;
        if settings.layout == Layout::Sops311 {
            docs.iter_mut().for_each(comments_on_own_lines);
        }
        let data_key = DataKey::generate();
        let mut key_groups = settings.key_groups;
        groups::wrap_data_key(
            &mut key_groups,
            settings.shamir_threshold,
            &data_key,
            sources,
        )
        .map_err(SealFileError::Keys)?;
        let threshold = if key_groups.len() > 1 && settings.shamir_threshold == 0 {
            key_groups.len() as i64
        } else {
            settings.shamir_threshold
        };
        let metadata = Metadata {
            key_groups,
            shamir_threshold: threshold,
            lastmodified: gotext::now_seconds(),
            mac: String::new(),
            rule: settings.rule,
            mac_only_encrypted: settings.mac_only_encrypted,
            version: FORMAT_VERSION.into(),
        };
        Ok(Document {
            format,
            docs,
            metadata,
            data_key,
            source: None,
            changed: true,
            keys_changed: false,
            undecryptable_comments: 0,
            own_indent: None,
            field_order: field_order(format, settings.layout.field_order()),
            mac_problem: None,
            damaged: Vec::new(),
            baseline: None,
            last_exposed: Vec::new(),
        })
    }

    /// Ends the document in a process about to exit: the plaintext is zeroized in place and
    /// the tree's memory left to the OS, instead of a free per value (thousands of them in a
    /// large file, a few percent of a decrypt's time). Everything else drops as usual.
    pub fn wipe_and_leak(mut self) {
        let mut docs = std::mem::take(&mut self.docs);
        for doc in &mut docs {
            doc.wipe_secrets();
        }
        std::mem::forget(docs);
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn docs(&self) -> &[Map] {
        &self.docs
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Whether two documents are encrypted under the same data key (revisions of one file
    /// share it until a rotation).
    pub fn same_data_key(&self, other: &Document) -> bool {
        self.data_key.expose() == other.data_key.expose()
    }

    /// Whether the document differs from the file it was opened from.
    pub fn is_changed(&self) -> bool {
        self.changed
    }

    /// Replaces the key groups and wraps the data key for every key. With one group, keys that
    /// already hold the data key keep their `enc` (so key types sesame cannot use survive);
    /// with several groups every key gets a fresh Shamir share. Nothing changes on failure.
    pub fn set_key_groups(
        &mut self,
        groups: Vec<KeyGroup>,
        threshold: i64,
        sources: &KeySources,
    ) -> Result<(), String> {
        let threshold = match (groups.len(), threshold) {
            (1, t) => t,
            (n, 0) if self.metadata.shamir_threshold > 0 => {
                self.metadata.shamir_threshold.min(n as i64)
            }
            (n, 0) => n as i64,
            (n, t) if t > n as i64 => {
                return Err(format!(
                    "the Shamir threshold {t} is more than the {n} key groups: the file could never be decrypted"
                ));
            }
            (_, t) => t,
        };
        let mut groups = groups;
        let keep_existing = groups.len() == 1 && self.metadata.key_groups.len() == 1;
        if keep_existing {
            let mut fresh: Vec<KeyGroup> = vec![KeyGroup::default()];
            let mut positions = Vec::new();
            for (i, key) in groups[0].keys.iter().enumerate() {
                if key.enc().is_empty() {
                    fresh[0].keys.push(key.clone());
                    positions.push(i);
                }
            }
            if !fresh[0].keys.is_empty() {
                groups::wrap_data_key(&mut fresh, 0, &self.data_key, sources)?;
                for (pos, key) in positions.into_iter().zip(fresh[0].keys.drain(..)) {
                    groups[0].keys[pos] = key;
                }
            }
        } else {
            for key in groups.iter_mut().flat_map(|g| g.keys.iter_mut()) {
                key.fields.remove("enc");
            }
            groups::wrap_data_key(&mut groups, threshold, &self.data_key, sources)?;
        }
        self.metadata.key_groups = groups;
        self.metadata.shamir_threshold = if self.metadata.key_groups.len() > 1 {
            threshold
        } else {
            self.metadata.shamir_threshold
        };
        self.keys_changed = true;
        Ok(())
    }

    /// Rotates the data key: a fresh key is wrapped for every key of `groups` and every value
    /// is encrypted again on the next seal. Nothing changes unless every key could be wrapped.
    pub fn rotate(&mut self, groups: Vec<KeyGroup>, sources: &KeySources) -> Result<(), String> {
        let threshold = self.metadata.shamir_threshold;
        self.rotate_with_threshold(groups, threshold, sources)
    }

    /// Rotates the data key (see `rotate`) with a new Shamir threshold.
    pub fn rotate_with_threshold(
        &mut self,
        groups: Vec<KeyGroup>,
        threshold: i64,
        sources: &KeySources,
    ) -> Result<(), String> {
        self.before_edit();
        let key = DataKey::generate();
        let mut groups = groups;
        for k in groups.iter_mut().flat_map(|g| g.keys.iter_mut()) {
            k.fields.remove("enc");
        }
        let threshold = if groups.len() > 1 {
            threshold.clamp(0, groups.len() as i64)
        } else {
            0
        };
        groups::wrap_data_key(&mut groups, threshold, &key, sources)?;
        self.data_key = key;
        if groups.len() > 1 {
            self.metadata.shamir_threshold = threshold;
        }
        self.metadata.key_groups = groups;
        for doc in &mut self.docs {
            edit::forget_ciphertext(doc);
        }
        self.changed = true;
        Ok(())
    }

    /// Writes a plan's staged key changes (nothing on failure): a rotation wraps a new data
    /// key for every key; otherwise the current data key is wrapped for the new keys.
    pub fn apply_plan(&mut self, plan: &Plan, sources: &KeySources) -> Result<(), String> {
        let groups = plan.groups().to_vec();
        if plan.rotates() {
            return self.rotate_with_threshold(groups, plan.raw_threshold(), sources);
        }
        self.set_key_groups(groups, plan.raw_threshold(), sources)
    }

    /// Redoes a change merged from another revision of this file (`edit::merge`). The
    /// change's remembered ciphertexts are kept when `keep_ciphertext` (that revision has this
    /// data key, so they are valid here: sops binds a value to its key path, which a merged
    /// change keeps); otherwise they are encrypted afresh on the next seal.
    pub fn reapply(&mut self, change: Reapply, keep_ciphertext: bool) -> Result<(), String> {
        let place = |doc: usize, path: &TreePath| format!("document {} {path}", doc + 1);
        match change {
            Reapply::Set {
                doc,
                path,
                mut value,
            } => {
                if !keep_ciphertext {
                    edit::forget_node_ciphertext(&mut value);
                }
                if path.is_empty() {
                    let Node::Map(map) = value else {
                        return Err(format!("{} is not a map", place(doc, &path)));
                    };
                    self.before_edit();
                    *self.docs.get_mut(doc).ok_or_else(|| place(doc, &path))? = map;
                    self.changed = true;
                    return Ok(());
                }
                self.set(doc, &path, value);
                Ok(())
            }
            Reapply::Remove { doc, path } => self
                .unset(doc, &path)
                .map_err(|e| format!("{}: {e}", place(doc, &path))),
            Reapply::Add {
                doc,
                parent,
                key,
                mut value,
                after,
            } => {
                if !keep_ciphertext {
                    edit::forget_node_ciphertext(&mut value);
                }
                let map = self.docs.get(doc).ok_or_else(|| place(doc, &parent))?;
                let parent_items = ops::addr_of(map, &parent).ok_or_else(|| place(doc, &parent))?;
                let container = if parent.is_empty() {
                    Some(map)
                } else {
                    ops::item_at(map, &parent_items)
                        .and_then(|i| i.node())
                        .and_then(Node::as_map)
                };
                let container = container.ok_or_else(|| place(doc, &parent))?;
                let pos = crate::edit::merge::position_after(container, after.as_deref());
                let at = ops::Addr::new(doc, parent_items).child(pos);
                self.apply(Op::Insert {
                    at,
                    item: ops::Item::Entry(crate::tree::Entry { key, value }),
                })
                .map(|_| ())
                .map_err(|e| e.to_string())
            }
        }
    }

    /// The value at `path` in document `doc` (the whole document for the empty path).
    pub fn node_at(&self, doc: usize, path: &TreePath) -> Option<Node> {
        match crate::path::lookup(self.docs.get(doc)?, path).ok()? {
            crate::path::Found::Document(m) => Some(Node::Map(m.clone())),
            crate::path::Found::Node(n) => Some(n.clone()),
        }
    }

    /// Changes which values are encrypted (the selection rule and `mac_only_encrypted`), as
    /// a merge of a rule change does; the next seal stores the values by the new rule.
    pub fn set_selection(&mut self, rule: Option<Rule>, mac_only_encrypted: bool) {
        if self.metadata.rule != rule || self.metadata.mac_only_encrypted != mac_only_encrypted {
            self.before_edit();
            self.metadata.rule = rule;
            self.metadata.mac_only_encrypted = mac_only_encrypted;
            self.changed = true;
        }
    }

    /// Why the MAC did not verify, when the file was opened with `ignore_mac` anyway.
    pub fn mac_problem(&self) -> Option<&str> {
        self.mac_problem.as_deref()
    }

    /// The values that did not decrypt (opened with `keep_damaged`); such a document is not
    /// sealed.
    pub fn damaged(&self) -> &[walk::DamagedValue] {
        &self.damaged
    }

    /// Applies a structural edit (see `edit::ops`) and returns the edit that undoes it. Values
    /// the edit does not replace keep their ciphertext.
    pub fn apply(&mut self, op: Op) -> Result<Op, OpError> {
        self.before_edit();
        let doc = op.addr().doc;
        let map = self
            .docs
            .get_mut(doc)
            .ok_or_else(|| OpError::NoItem(op.addr().items.clone()))?;
        let inverse = ops::apply(map, op)?;
        self.changed = true;
        Ok(inverse)
    }

    /// Writes the file in another format from now on (`set --output-type`); the metadata is
    /// then laid out afresh for that format. Like any save, nothing is written unless the
    /// document changed.
    pub fn convert(&mut self, format: Format) {
        if format != self.format {
            self.format = format;
            self.source = None;
            self.own_indent = None;
        }
    }

    /// Marks the document changed without changing a value, so the next seal rewrites it.
    pub fn touch(&mut self) {
        self.changed = true;
    }

    /// Sets the value at `path` in document `doc` (sops `set` semantics). Returns whether
    /// anything changed; an unchanged value keeps its ciphertext.
    pub fn set(&mut self, doc: usize, path: &TreePath, value: Node) -> bool {
        self.before_edit();
        let Some(map) = self.docs.get_mut(doc) else {
            return false;
        };
        let changed = edit::set(map, path, value);
        self.changed |= changed;
        changed
    }

    /// Removes the value at `path` in document `doc`.
    pub fn unset(&mut self, doc: usize, path: &TreePath) -> Result<(), LookupError> {
        self.before_edit();
        let map = self
            .docs
            .get_mut(doc)
            .ok_or(LookupError::OutOfBounds(doc))?;
        edit::unset(map, path)?;
        self.changed = true;
        Ok(())
    }

    /// Encrypts the documents for writing: unchanged values keep their ciphertext, changed ones
    /// get a fresh IV, and the MAC and `lastmodified` are renewed. `None` when nothing changed
    /// (a save then writes nothing).
    pub fn seal(&mut self, opts: &EmitOptions) -> Result<Option<Vec<u8>>, SealFileError> {
        Ok(self.seal_with(opts, true)?.map(SealedFile::into_bytes))
    }

    /// `seal` for a document written once and dropped (the command line): the new
    /// ciphertexts are not copied back into the tree for a next save that never comes, and
    /// the plaintext is wiped as soon as it is encrypted (before the file text is built, so a
    /// large value is not held three times); the document has no documents left after it.
    pub fn seal_once(&mut self, opts: &EmitOptions) -> Result<Option<Vec<u8>>, SealFileError> {
        Ok(self.seal_once_to_write(opts)?.map(SealedFile::into_bytes))
    }

    /// `seal_once` giving the file to write rather than its text: a binary file's value is
    /// encrypted as it is written, so its text is never held whole.
    pub fn seal_once_to_write(
        &mut self,
        opts: &EmitOptions,
    ) -> Result<Option<SealedFile>, SealFileError> {
        self.seal_with(opts, false)
    }

    fn seal_with(
        &mut self,
        opts: &EmitOptions,
        remember: bool,
    ) -> Result<Option<SealedFile>, SealFileError> {
        if let Some(first) = self.damaged.first() {
            return Err(SealFileError::Damaged(first.error.to_string()));
        }
        if !self.changed && !self.keys_changed {
            return Ok(None);
        }
        let selector = Selector::new(&self.metadata.effective_rule());
        if !remember
            && self.format == Format::Binary
            && let Some(file) = self.seal_binary_once(&selector, opts)?
        {
            return Ok(Some(file));
        }
        let sealed = walk::encrypt_docs(
            &self.docs,
            &selector,
            self.metadata.mac_only_encrypted,
            &self.data_key,
        )?;
        if remember {
            for (plain, stored) in self.docs.iter_mut().zip(&sealed.docs) {
                edit::remember_ciphertext(plain, stored);
            }
        } else {
            self.docs = Vec::new();
        }
        let text = self.write_sealed(&sealed.docs, sealed.mac, opts)?;
        Ok(Some(SealedFile::Text(text)))
    }

    /// `seal_once` of a binary file's one new value: the JSON envelope (whose `data` comes
    /// before the metadata) is made around a value encrypted as the file is written. `None`
    /// when the document is not one such value.
    fn seal_binary_once(
        &mut self,
        selector: &Selector,
        opts: &EmitOptions,
    ) -> Result<Option<SealedFile>, SealFileError> {
        let [doc] = &self.docs[..] else {
            return Ok(None);
        };
        let [MapItem::Entry(entry)] = &doc.items[..] else {
            return Ok(None);
        };
        // The envelope with the value empty, to find where its text goes.
        let mut stand_in = Map::new();
        stand_in.push(entry.key.clone(), Node::string(""));
        let stand_in = [stand_in];
        let bare = store::emit(self.format, &stand_in, None, &self.emit_options(opts))?.bytes;
        let Some(at) = store::binary::empty_value_at(&bare) else {
            return Ok(None);
        };
        let mac_only = self.metadata.mac_only_encrypted;
        let doc = &mut self.docs[0];
        let Some(value) = walk::seal_lone_string(doc, selector, mac_only, &self.data_key) else {
            return Ok(None);
        };
        self.docs = Vec::new();
        let mut envelope = self.write_sealed(&stand_in, value.mac.clone(), opts)?;
        debug_assert_eq!(
            envelope[..at],
            bare[..at],
            "data comes first in the envelope"
        );
        let tail = envelope.split_off(at);
        Ok(Some(SealedFile::Envelope {
            head: envelope,
            value: Box::new(value),
            tail,
        }))
    }

    /// The file text of sealed documents: renews `lastmodified` and the MAC when the values
    /// changed, emits, and reuses the file's own metadata text when only those two changed.
    fn write_sealed(
        &mut self,
        sealed: &[Map],
        mac: String,
        opts: &EmitOptions,
    ) -> Result<Vec<u8>, SealFileError> {
        let exposed = self.baseline.as_ref().map(|b| b.exposed(sealed));
        if self.changed {
            let lastmodified = gotext::now_seconds();
            let mac = mac::encrypt_mac(&self.data_key, &mac, &lastmodified);
            self.metadata.lastmodified = lastmodified;
            self.metadata.mac = mac;
        }
        let opts = self.emit_options(opts);
        let tree = self.metadata.to_tree(self.field_order);
        let emitted = store::emit(self.format, sealed, Some(&tree), &opts)?;
        let reindented = opts.indent_given && self.own_indent != opts.indent_of(self.format);
        let reusable = if reindented {
            None
        } else {
            self.reusable_metadata_text()
        };
        let bytes = match reusable {
            Some(text) => splice_all(&emitted.bytes, &emitted.metadata_spans, &text),
            None => emitted.bytes,
        };
        if let Some(source) = &mut self.source {
            source.original = self.metadata.clone();
        }
        self.changed = false;
        self.keys_changed = false;
        self.baseline = None;
        self.last_exposed = exposed.unwrap_or_default();
        Ok(bytes)
    }

    /// Takes the baseline for `exposed_in` before the first edit.
    fn before_edit(&mut self) {
        if self.baseline.is_none() {
            self.baseline = Some(Baseline::of(&self.docs));
        }
    }

    /// The paths of values that `sealed` (what `would_write` gives) stores in plain text
    /// although they were stored encrypted before the edits (a key renamed onto the plain
    /// suffix, a secret copied into a plain field), so a front end can warn and ask.
    pub fn exposed_in(&self, sealed: &[Map]) -> Vec<String> {
        match &self.baseline {
            Some(baseline) => baseline.exposed(sealed),
            None => Vec::new(),
        }
    }

    /// The documents as a save would store them now (encrypted values as `ENC[...]` text;
    /// unchanged ones with the ciphertext they have), without writing or changing anything.
    pub fn would_write(&self) -> Result<Vec<Map>, SealError> {
        let selector = Selector::new(&self.metadata.effective_rule());
        walk::encrypt_docs(
            &self.docs,
            &selector,
            self.metadata.mac_only_encrypted,
            &self.data_key,
        )
        .map(|sealed| sealed.docs)
    }

    /// The paths the last `seal` stored in plain text although they were stored encrypted before
    /// the edits (what `exposed_in` would have said), for a warning after the fact.
    pub fn exposed_by_last_seal(&self) -> &[String] {
        &self.last_exposed
    }

    /// The plaintext file in `format` (decrypt output).
    pub fn plain_bytes(
        &self,
        format: Format,
        opts: &EmitOptions,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, StoreError> {
        store::emit_plain(format, &self.docs, opts)
    }

    /// The file's own indentation wins over configured defaults, so a save keeps its layout;
    /// an indentation asked for explicitly wins over it (sops 3.13's `--indent`).
    fn emit_options(&self, opts: &EmitOptions) -> EmitOptions {
        let mut o = *opts;
        if let Some(indent) = self.own_indent.filter(|_| !opts.indent_given) {
            match self.format {
                Format::Yaml => o.yaml_indent = indent,
                Format::Json => o.json_indent = indent,
                Format::Binary => o.json_binary_indent = indent,
                Format::Dotenv | Format::Ini => {}
            }
        }
        o
    }

    /// The original metadata text with new `lastmodified` and `mac` values, when nothing else
    /// in the metadata changed and the file's layout allows reusing it.
    fn reusable_metadata_text(&self) -> Option<Vec<u8>> {
        let source = self.source.as_ref()?;
        let mut original = source.original.clone();
        original
            .lastmodified
            .clone_from(&self.metadata.lastmodified);
        original.mac.clone_from(&self.metadata.mac);
        if original != self.metadata {
            return None;
        }
        let text = source.text.as_ref()?;
        Some(text.with(&self.metadata.lastmodified, &self.metadata.mac))
    }
}

/// A new value written the way the old token was: in the same quotes, or bare. Timestamps and
/// `ENC[...]` strings need no escaping in any format.
fn respell(old: &[u8], new: &str) -> String {
    match old.first() {
        Some(&q) if q == b'"' || q == b'\'' => {
            let q = q as char;
            format!("{q}{new}{q}")
        }
        _ => new.to_string(),
    }
}

/// sops 3.11 writes a comment that followed a value (`a: 1 # c`) on its own line above it.
fn comments_on_own_lines(map: &mut Map) {
    fn node(n: &mut Node) {
        match n {
            Node::Map(m) => comments_on_own_lines(m),
            Node::List(l) => {
                for item in &mut l.items {
                    match item {
                        ListItem::Comment(c) => c.inline = false,
                        ListItem::Node(n) => node(n),
                    }
                }
            }
            Node::Leaf(_) => {}
        }
    }
    for item in &mut map.items {
        match item {
            MapItem::Comment(c) => c.inline = false,
            MapItem::Entry(e) => node(&mut e.value),
        }
    }
}

/// The flat formats sort their flattened metadata in every sops version: only YAML and JSON
/// have a choice.
fn field_order(format: Format, wanted: FieldOrder) -> FieldOrder {
    match format {
        Format::Yaml | Format::Json | Format::Binary => wanted,
        Format::Dotenv | Format::Ini => FieldOrder::Sorted,
    }
}

/// Whether two metadata trees have the same fields at every level, in any order and whatever
/// their values.
fn same_fields(a: &Map, b: &Map) -> bool {
    fn keys(m: &Map) -> Vec<&str> {
        let mut k: Vec<&str> = m.entries().map(|e| e.key.as_str()).collect();
        k.sort_unstable();
        k
    }
    keys(a) == keys(b)
        && a.entries().all(|e| match (&e.value, b.get(&e.key)) {
            (Node::Map(x), Some(Node::Map(y))) => same_fields(x, y),
            (Node::List(x), Some(Node::List(y))) => {
                x.values().count() == y.values().count()
                    && x.values().zip(y.values()).all(|pair| match pair {
                        (Node::Map(x), Node::Map(y)) => same_fields(x, y),
                        (x, y) => x.as_map().is_none() && y.as_map().is_none(),
                    })
            }
            (Node::Map(_) | Node::List(_), _) => false,
            (_, other) => other.is_some_and(|n| n.as_scalar().is_some()),
        })
}

/// Replaces each range of `bytes` (in order, not overlapping) with `text`.
fn splice_all(bytes: &[u8], spans: &[Range<usize>], text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + text.len() * spans.len());
    let mut pos = 0;
    for span in spans {
        out.extend_from_slice(&bytes[pos..span.start]);
        out.extend_from_slice(text);
        pos = span.end;
    }
    out.extend_from_slice(&bytes[pos..]);
    out
}

/// The indentation an encrypted YAML or JSON file was written with: the metadata block always
/// nests, so its first child line shows it.
fn detect_indent(format: Format, bytes: &[u8], meta: Option<&MetadataSource>) -> Option<i64> {
    // Only the line after `sops:` (YAML) or the second line (JSON) is needed: never scan or
    // validate the whole, possibly large, file.
    let leading = |line: &[u8], c: u8| line.iter().take_while(|b| **b == c).count();
    match format {
        Format::Yaml => {
            let start = meta?.span.as_ref()?.start;
            let rest = bytes.get(start..)?;
            let first_end = rest.iter().position(|b| *b == b'\n')?;
            let child = rest[first_end + 1..].split(|b| *b == b'\n').next()?;
            let n = leading(child, b' ');
            (n > 0).then_some(n as i64)
        }
        Format::Json | Format::Binary => {
            // The second line's start: its end is never looked for (a binary file's whole
            // data is one line of many megabytes).
            let first_end = bytes.iter().position(|b| *b == b'\n')?;
            let line = &bytes[first_end + 1..];
            if line.first() == Some(&b'\t') {
                Some(-1)
            } else {
                Some(leading(line, b' ') as i64)
            }
        }
        Format::Dotenv | Format::Ini => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::FixedEnv;
    use crate::keys::{KeyKind, MasterKey};
    use crate::tree::Scalar;

    fn binary_file(docs: Vec<Map>) -> Document {
        let mut key = MasterKey::new(KeyKind::Age);
        key.set_text(
            "recipient",
            "age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun",
        );
        let settings = NewFile {
            key_groups: vec![KeyGroup { keys: vec![key] }],
            ..NewFile::default()
        };
        let sources = KeySources::new(Box::new(FixedEnv::default()));
        Document::create(Format::Binary, docs, settings, &sources).unwrap()
    }

    #[test]
    fn only_one_new_string_is_sealed_straight_into_the_envelope() {
        let opts = EmitOptions::default();
        let data = |value: Node| {
            let mut map = Map::new();
            map.push("data", value);
            map
        };
        let mut doc = binary_file(vec![data(Node::string("payload"))]);
        let selector = Selector::new(&doc.metadata.effective_rule());
        let text = doc
            .seal_binary_once(&selector, &opts)
            .unwrap()
            .unwrap()
            .into_bytes();
        assert!(text.starts_with(b"{\n\t\"data\": \"ENC[AES256_GCM,data:"));
        assert!(doc.docs.is_empty(), "the plaintext outlived the seal");
        // Any other shape is left to the tree walk.
        let mut two = data(Node::string("a"));
        two.push("other", Node::string("b"));
        for docs in [
            vec![data(Node::string(""))],
            vec![data(Node::scalar(Scalar::Int(1)))],
            vec![two],
            vec![data(Node::string("a")), data(Node::string("b"))],
        ] {
            let mut doc = binary_file(docs.clone());
            assert!(doc.seal_binary_once(&selector, &opts).unwrap().is_none());
            assert_eq!(doc.docs, docs, "a refused document is left as it was");
        }
    }
}
