//! The YAML line locator: finds the line of a key path by scanning the text, so that semantic
//! errors (which serde cannot place) still point at a line.

/// A step of a path into the YAML text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// The n-th item of a list.
    Item(usize),
}

/// Finds the line of a key by scanning the text: block style (`key:` on its own line, deeper
/// indentation for children) and flow style on one line (`verify: {path: /me}`). When a step
/// cannot be found, the line of the deepest step found is returned.
pub(crate) struct Locator<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Locator { lines: text.lines().collect() }
    }

    /// The 1-based line of the path, or of its deepest ancestor found.
    pub(crate) fn find(&self, path: &[Seg<'_>]) -> Option<usize> {
        // (line index, indentation of the key or dash found there)
        let mut anchor: Option<(usize, usize)> = None;
        for seg in path {
            let next = match *seg {
                Seg::Key(k) => self.find_key(anchor, k),
                Seg::Item(n) => self.find_item(anchor, n),
            };
            match next {
                Some(found) => anchor = Some(found),
                None => break,
            }
        }
        anchor.map(|(i, _)| i + 1)
    }

    fn find_key(&self, anchor: Option<(usize, usize)>, key: &str) -> Option<(usize, usize)> {
        if let Some((line, indent)) = anchor {
            // Flow style on the anchor line itself: `{key: v}` or `, key: v`.
            let text = self.lines[line];
            for lead in ["{", ", ", "{ ", ","] {
                if let Some(pos) = text.find(&format!("{lead}{key}:")) {
                    let _ = pos;
                    return Some((line, indent));
                }
            }
            // A `- key:` item line: the first key sits on the dash line.
            let t = text.trim_start();
            if let Some(after) = t.strip_prefix("- ")
                && is_key_line(after, key)
            {
                return Some((line, indent + 2));
            }
        }
        let (start, parent_indent) = match anchor {
            Some((line, indent)) => (line + 1, Some(indent)),
            None => (0, None),
        };
        for (i, text) in self.lines.iter().enumerate().skip(start) {
            let t = text.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let indent = text.len() - t.len();
            match parent_indent {
                None if indent != 0 => continue,
                Some(p) if indent <= p => return None,
                _ => {}
            }
            let (content, offset) = match t.strip_prefix("- ") {
                Some(rest) => (rest, 2),
                None => (t, 0),
            };
            if is_key_line(content, key) {
                return Some((i, indent + offset));
            }
        }
        None
    }

    fn find_item(&self, anchor: Option<(usize, usize)>, n: usize) -> Option<(usize, usize)> {
        let (line, parent_indent) = anchor?;
        if self.lines[line].contains('[') {
            return Some((line, parent_indent));
        }
        let mut seen = 0;
        let mut item_indent = None;
        for (i, text) in self.lines.iter().enumerate().skip(line + 1) {
            let t = text.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let indent = text.len() - t.len();
            let is_item = t == "-" || t.starts_with("- ");
            if indent < parent_indent || (indent == parent_indent && !is_item) {
                return None;
            }
            if is_item && item_indent.is_none_or(|ii| ii == indent) {
                item_indent = Some(indent);
                if seen == n {
                    return Some((i, indent));
                }
                seen += 1;
            }
        }
        None
    }
}

fn is_key_line(content: &str, key: &str) -> bool {
    let unquoted = content
        .strip_prefix('"')
        .and_then(|c| c.strip_prefix(key))
        .and_then(|c| c.strip_prefix('"'))
        .or_else(|| content.strip_prefix(key));
    unquoted.is_some_and(|rest| rest.trim_start().starts_with(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locator_handles_block_flow_and_lists() {
        let text = "\
id: x
verify: {method: GET, path: /me}
modules:
  a:
    name: A
  b:
    name: B
    scopes: [x]
settings:
- key: one
  label: One
- key: two
  label: Two
";
        let l = Locator::new(text);
        assert_eq!(l.find(&[Seg::Key("verify"), Seg::Key("path")]), Some(2));
        assert_eq!(l.find(&[Seg::Key("modules"), Seg::Key("b"), Seg::Key("scopes")]), Some(8));
        assert_eq!(l.find(&[Seg::Key("modules"), Seg::Key("b"), Seg::Key("nope")]), Some(6));
        assert_eq!(l.find(&[Seg::Key("settings"), Seg::Item(1), Seg::Key("label")]), Some(13));
        assert_eq!(l.find(&[Seg::Key("settings"), Seg::Item(0), Seg::Key("key")]), Some(10));
        assert_eq!(l.find(&[Seg::Key("name")]), None);
    }
}
