//! `netform fmt`: Terraform's canonical layout for `.tf` and `.tfvars` text. Two-space
//! indentation by nesting, `=` aligned across runs of single-line arguments, one space around
//! `=`, no trailing whitespace, one final newline. Heredoc bodies are left exactly as written.

/// Format one file's text.
pub fn format(text: &str) -> String {
    let mut lines: Vec<Line> = Vec::new();
    let mut depth: i64 = 0;
    let mut heredoc: Option<String> = None;
    for raw in text.lines() {
        if let Some(delim) = &heredoc {
            let done = raw.trim() == delim;
            lines.push(Line::Verbatim(raw.trim_end_matches('\r').to_string()));
            if done {
                heredoc = None;
            }
            continue;
        }
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            lines.push(Line::Blank);
            continue;
        }
        let scan = scan(trimmed);
        let leading_close = trimmed
            .chars()
            .take_while(|c| matches!(c, '}' | ']' | ')'))
            .count() as i64;
        let indent = (depth - leading_close).max(0) as usize;
        depth = (depth + scan.net).max(0);
        heredoc = scan.heredoc;
        match split_assignment(trimmed) {
            Some((key, value)) if scan.net == 0 && heredoc.is_none() => {
                lines.push(Line::Attr { indent, key, value })
            }
            _ => lines.push(Line::Other {
                indent,
                text: normalize_assignment(trimmed),
            }),
        }
    }
    render(&lines)
}

enum Line {
    Blank,
    Verbatim(String),
    Attr {
        indent: usize,
        key: String,
        value: String,
    },
    Other {
        indent: usize,
        text: String,
    },
}

fn render(lines: &[Line]) -> String {
    let mut out = String::new();
    let mut i = 0;
    let mut blank_run = 0;
    while i < lines.len() {
        match &lines[i] {
            Line::Blank => {
                blank_run += 1;
                if blank_run == 1 && !out.is_empty() {
                    out.push('\n');
                }
                i += 1;
                continue;
            }
            Line::Verbatim(t) => {
                out.push_str(t);
                out.push('\n');
                i += 1;
            }
            Line::Other { indent, text } => {
                out.push_str(&"  ".repeat(*indent));
                out.push_str(text);
                out.push('\n');
                i += 1;
            }
            Line::Attr { indent, .. } => {
                // A run of single-line arguments at one depth aligns its `=`.
                let start = i;
                let mut width = 0;
                while let Some(Line::Attr { indent: d, key, .. }) = lines.get(i) {
                    if d != indent {
                        break;
                    }
                    width = width.max(key.chars().count());
                    i += 1;
                }
                for line in &lines[start..i] {
                    if let Line::Attr { indent, key, value } = line {
                        out.push_str(&"  ".repeat(*indent));
                        out.push_str(key);
                        out.push_str(&" ".repeat(width - key.chars().count()));
                        out.push_str(" = ");
                        out.push_str(value);
                        out.push('\n');
                    }
                }
            }
        }
        blank_run = 0;
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out.is_empty() {
        return out;
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

struct Scan {
    /// Opening minus closing brackets outside strings and comments.
    net: i64,
    /// The delimiter of a heredoc this line starts.
    heredoc: Option<String>,
}

fn scan(line: &str) -> Scan {
    let chars: Vec<char> = line.chars().collect();
    let mut net = 0;
    let mut heredoc = None;
    let mut i = 0;
    let mut in_string = false;
    let mut interp = 0; // brace depth inside ${ } within a string
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            match c {
                '\\' => i += 1,
                '$' | '%' if chars.get(i + 1) == Some(&'{') => {
                    interp += 1;
                    i += 1;
                }
                '}' if interp > 0 => interp -= 1,
                '"' if interp == 0 => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            '"' => in_string = true,
            '#' => break,
            '/' if chars.get(i + 1) == Some(&'/') => break,
            '{' | '[' | '(' => net += 1,
            '}' | ']' | ')' => net -= 1,
            '<' if chars.get(i + 1) == Some(&'<') => {
                let mut j = i + 2;
                if chars.get(j) == Some(&'-') {
                    j += 1;
                }
                let delim: String = chars[j..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_')
                    .collect();
                if !delim.is_empty() {
                    heredoc = Some(delim);
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Scan { net, heredoc }
}

/// `key = value` (not `==`, not inside brackets or strings).
fn split_assignment(line: &str) -> Option<(String, String)> {
    let chars: Vec<char> = line.chars().collect();
    let first = *chars.first()?;
    if !(first.is_alphabetic() || first == '_' || first == '"') {
        return None;
    }
    let mut i = 0;
    let mut in_string = false;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            if c == '\\' {
                i += 1;
            } else if c == '"' {
                in_string = false;
            }
        } else {
            match c {
                '"' => in_string = true,
                '{' | '[' | '(' | '#' => return None,
                '=' if chars.get(i + 1) != Some(&'=')
                    && !matches!(chars.get(i.wrapping_sub(1)), Some('!' | '<' | '>' | '=')) =>
                {
                    let key: String = chars[..i].iter().collect::<String>().trim().to_string();
                    let value: String =
                        chars[i + 1..].iter().collect::<String>().trim().to_string();
                    if key.is_empty() || key.contains(' ') && !key.starts_with('"') {
                        return None;
                    }
                    return Some((key, value));
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// `key={` → `key = {` for lines that open a block value.
fn normalize_assignment(line: &str) -> String {
    let Some(eq) = line.find('=') else {
        return line.to_string();
    };
    let (key, rest) = line.split_at(eq);
    let value = &rest[1..];
    let key_ok = !key.trim().is_empty()
        && key
            .trim()
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if !key_ok || value.starts_with('=') || key.ends_with(['!', '<', '>', '=']) {
        return line.to_string();
    }
    format!("{} = {}", key.trim(), value.trim())
}

/// A unified diff between two versions of `name`, as `fmt --diff` prints it.
pub fn diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(&format!("old/{name}"), &format!("new/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_aligns_and_keeps_heredocs() {
        let input = "resource \"azurerm_resource_group\" \"rg\" {\nname=\"rg\"\n      location = \"westeurope\"   \ntags={\nenv=\"prod\"\n}\n}\n\n\n\nlocals {\n  script = <<-EOT\n      keep   this\n  EOT\n  a = 1\n}\n";
        let want = "resource \"azurerm_resource_group\" \"rg\" {\n  name     = \"rg\"\n  location = \"westeurope\"\n  tags = {\n    env = \"prod\"\n  }\n}\n\nlocals {\n  script = <<-EOT\n      keep   this\n  EOT\n  a = 1\n}\n";
        assert_eq!(format(input), want);
        assert_eq!(format(want), want, "formatting is idempotent");
    }

    #[test]
    fn leaves_comparisons_and_strings_alone() {
        let input = "output \"x\" {\n  value = var.a == \"{\" ? 1 : 2 # a { comment\n}\n";
        assert_eq!(format(input), input);
        let blocks = "variable \"v\" {\n  validation {\n    condition     = length(var.v) >= 1\n    error_message = \"x\"\n  }\n}\n";
        assert_eq!(format(blocks), blocks);
    }

    #[test]
    fn diff_shows_changes() {
        let d = diff("main.tf", "a=1\n", "a = 1\n");
        assert!(d.contains("-a=1") && d.contains("+a = 1"), "{d}");
    }
}
