//! `sesame encrypt`: encrypt a plain file for the recipients given by flags or `.sops.yaml`.

use crate::cli::args::{FileArgs, Flags, on};
use crate::cli::context::{self, Input};
use crate::cli::exit::{CliResult, Failure, code};
use crate::cli::recipients;
use sesame::config::CreationRule;
use sesame::document::{Document, NewFile};
use sesame::keys::groups::KeySources;
use sesame::rules::{MORE_THAN_ONE_RULE, Rule, RuleKind};
use sesame::store::{self, Format};
use sesame::tree::Map;

pub fn run(args: &FileArgs, flags: &Flags) -> CliResult {
    let mut input = Input::resolve(args.file.as_deref(), flags)?;
    if input.is_stdin() && flags.filename_override.as_deref().unwrap_or("").is_empty() {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "Error: must specify --filename-override when reading from stdin",
        ));
    }
    context::check_output_flags(flags, &input)?;
    let config = context::load_config(flags)?;
    let in_format = input.format(flags.input_type.as_deref());
    let out_format = input.format(flags.output_type.as_deref());
    let sources = context::key_sources(flags, &input)?;
    let name = input
        .name
        .clone()
        .expect("a file or --filename-override is required above");
    let rule = context::creation_rule(config.as_ref(), &name)?;

    if on(flags.in_place) {
        input.lock_for_update()?;
    }
    // The plaintext: wiped once parsed (a binary file's buffer becomes its value).
    let bytes = zeroize::Zeroizing::new(input.read()?);
    let already_encrypted = || {
        Failure::new(
            code::FILE_ALREADY_ENCRYPTED,
            format!(
                "The file you have provided contains a top-level entry called 'sops', or for flat file formats top-level entries starting with 'sops_'. This is generally due to the file already being encrypted. If you are sure your file is not encrypted, rename the 'sops' key ({}).",
                input.display()
            ),
        )
    };
    let parsed = store::parse_plain_owned(in_format, bytes).map_err(|e| {
        if matches!(e, store::StoreError::SopsEntry(_)) {
            return already_encrypted();
        }
        Failure::new(
            code::COULD_NOT_READ_INPUT_FILE,
            format!("Error unmarshalling file: {e}"),
        )
        .hint(format!(
            "{} is read as {}; pass --input-type if that is wrong",
            input.display(),
            in_format.name()
        ))
    })?;
    if parsed.docs.is_empty() {
        return Err(Failure::new(
            code::NEED_AT_LEAST_ONE_DOCUMENT,
            "File cannot be completely empty, it must contain at least one document",
        ));
    }
    if parsed.metadata.is_some() {
        return Err(already_encrypted());
    }

    let mut doc = new_document(flags, rule, out_format, parsed.docs, &sources)?;
    let opts = context::emit_options(config.as_ref(), flags);
    let file = doc
        .seal_once_to_write(&opts)
        .map_err(|e| Failure::new(code::ERROR_ENCRYPTING_TREE, e.to_string()))?
        .expect("a new document always has content to write");
    context::write_result_with(flags, &input, |out| file.write_to(out))
}

/// A new document of `docs` for the recipients, threshold and selection rule that the flags
/// and the file's `.sops.yaml` creation rule give (its data key generated and wrapped).
pub fn new_document(
    flags: &Flags,
    rule: Option<&CreationRule>,
    format: Format,
    docs: Vec<Map>,
    sources: &KeySources,
) -> CliResult<Document> {
    let key_groups = recipients::key_groups(flags, rule)?;
    let settings = NewFile {
        key_groups,
        shamir_threshold: flags
            .shamir_secret_sharing_threshold
            .filter(|t| *t != 0)
            .or(rule.map(|r| r.shamir_threshold))
            .unwrap_or(0),
        rule: selection_rule(flags, rule.and_then(|r| r.rule.clone()), format)?,
        mac_only_encrypted: on(flags.mac_only_encrypted)
            || rule.is_some_and(|r| r.mac_only_encrypted),
        layout: context::new_file_layout()?,
    };
    // sops compat: a key that cannot be wrapped for is a generic failure (exit 1).
    Document::create(format, docs, settings, sources)
        .map_err(|e| Failure::new(code::GENERIC, e.to_string()))
}

/// The selection rule: each flag wins over the config's value for the same rule; more than one
/// rule in the end is exit 8. Binary files are always fully encrypted.
fn selection_rule(
    flags: &Flags,
    from_config: Option<Rule>,
    format: Format,
) -> Result<Option<Rule>, Failure> {
    let from_flags = [
        (RuleKind::UnencryptedSuffix, &flags.unencrypted_suffix),
        (RuleKind::EncryptedSuffix, &flags.encrypted_suffix),
        (RuleKind::UnencryptedRegex, &flags.unencrypted_regex),
        (RuleKind::EncryptedRegex, &flags.encrypted_regex),
        (
            RuleKind::UnencryptedCommentRegex,
            &flags.unencrypted_comment_regex,
        ),
        (
            RuleKind::EncryptedCommentRegex,
            &flags.encrypted_comment_regex,
        ),
    ];
    let mut rules: Vec<Rule> = Vec::new();
    for (kind, value) in from_flags {
        let flag = value.as_deref().filter(|v| !v.is_empty());
        let config = from_config
            .as_ref()
            .filter(|r| r.kind == kind)
            .map(|r| r.pattern.as_str());
        if let Some(pattern) = flag.or(config) {
            rules.push(Rule::new(kind, pattern));
        }
    }
    if format == Format::Binary {
        if !rules.is_empty() {
            eprintln!(
                "[CMD]\tWARN\tselection rules do not make sense with the binary store (its one value is always encrypted) and are ignored"
            );
        }
        return Ok(None);
    }
    match rules.len() {
        0 => Ok(Some(Rule::default_suffix())),
        1 => Ok(rules.pop()),
        _ => Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            format!("Error: {MORE_THAN_ONE_RULE}"),
        )),
    }
}
