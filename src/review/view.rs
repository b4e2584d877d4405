//! A stable text view of a sops file for Git's textconv (`git log -p`, `git show`, blame,
//! GUIs): one line per value with how it is stored, then the recipients, the rule and the
//! threshold, so a leak or a recipient change shows as an ordinary diff line. Values appear
//! only when asked for; otherwise a fingerprint of what is stored stands in for them.

use crate::metadata::Metadata;
use crate::review::diff::rule_text;
use crate::review::leaves::Leaf;
use crate::review::names::Names;

/// The view of one revision. `values` prints plaintext where the leaves carry it.
pub fn text_view(leaves: &[Leaf], docs: usize, md: Option<&Metadata>, names: &Names) -> String {
    let mut out = String::new();
    for leaf in leaves {
        let state = if leaf.is_encrypted() {
            "[enc]"
        } else {
            "[plain]"
        };
        let value = match &leaf.plain {
            Some(p) => format!("= {:?}", p.to_lossy()),
            None => format!("#{}", leaf.fingerprint),
        };
        out.push_str(&format!(
            "{}: {state} {} {}b {value}\n",
            leaf.place(docs),
            leaf.type_name(),
            leaf.len
        ));
    }
    let Some(md) = md else {
        out.push_str("--- not encrypted with sops\n");
        return out;
    };
    out.push_str("--- sops\n");
    for (g, group) in md.key_groups.iter().enumerate() {
        out.push_str(&format!("key group {}:\n", g + 1));
        for key in &group.keys {
            out.push_str(&format!(
                "  {} {}\n",
                key.kind.field(),
                names.label(&key.display())
            ));
        }
    }
    if md.key_groups.len() > 1 {
        out.push_str(&format!("shamir_threshold: {}\n", md.shamir_threshold));
    }
    out.push_str(&format!("rule: {}\n", rule_text(md)));
    if md.mac_only_encrypted {
        out.push_str("mac_only_encrypted: true\n");
    }
    out.push_str(&format!("version: {}\n", md.version));
    out
}
