//! JSON text for files people read and diff (state, saved plans): indented like
//! `serde_json::to_string_pretty` down to a depth, compact below it.
//!
//! Fully indented JSON grows with the square of a value's depth (every line of a nested value
//! carries its whole indentation), so a value nested a thousand levels deep — a chain of
//! `terraform_data` resources, each holding its parent's whole output — turns a state of a few
//! megabytes into gigabytes. Below `max_depth` the structure stays readable; deeper values are
//! written on one line.

use std::io;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::ser::Formatter;

/// How deeply nested a state or plan file may be. serde_json's own limit (128) would refuse
/// what netform itself writes for deep values; unbounded recursion would let a corrupt file
/// overflow the stack. Deeper files are refused with an error instead.
pub const MAX_READ_DEPTH: usize = 4096;

/// Parse JSON nested up to [`MAX_READ_DEPTH`] levels.
pub fn from_str_deep<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let depth = nesting_depth(text);
    if depth > MAX_READ_DEPTH {
        return Err(format!(
            "values are nested {depth} levels deep; netform reads at most {MAX_READ_DEPTH}"
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let value = T::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// The deepest nesting of arrays and objects in `text` (brackets inside strings ignored).
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// `value` as JSON, indented by two spaces for containers up to `max_depth` levels deep
/// (the top-level container is level 1), compact inside deeper ones.
pub fn to_string_layered<T: Serialize + ?Sized>(value: &T, max_depth: usize) -> String {
    let mut out = Vec::with_capacity(4096);
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        Layered {
            level: 0,
            max_depth,
            has_value: false,
        },
    );
    if value.serialize(&mut ser).is_err() {
        return "{}".into();
    }
    String::from_utf8(out).unwrap_or_else(|_| "{}".into())
}

struct Layered {
    /// Depth of the innermost open container.
    level: usize,
    max_depth: usize,
    has_value: bool,
}

impl Layered {
    fn pretty(&self) -> bool {
        self.level <= self.max_depth
    }

    fn indent<W: ?Sized + io::Write>(&self, w: &mut W) -> io::Result<()> {
        for _ in 0..self.level {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        let pretty = self.pretty();
        self.level -= 1;
        if pretty && self.has_value {
            w.write_all(b"\n")?;
            self.indent(w)?;
        }
        w.write_all(bracket)
    }

    fn element<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if self.pretty() {
            w.write_all(if first { b"\n" } else { b",\n" })?;
            self.indent(w)
        } else if first {
            Ok(())
        } else {
            w.write_all(b",")
        }
    }
}

impl Formatter for Layered {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.element(w, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.element(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(if self.pretty() { b": " } else { b":" })
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shallow_values_read_as_pretty_json() {
        let v = json!({"a": [1, 2], "b": {"c": "d"}, "e": [], "f": {}});
        assert_eq!(
            to_string_layered(&v, 8),
            serde_json::to_string_pretty(&v).unwrap()
        );
    }

    #[test]
    fn deep_values_are_compact_below_the_depth() {
        let v = json!({"resources": [{"attributes": {"deep": {"x": [1, {"y": 2}]}, "n": 1}}]});
        let text = to_string_layered(&v, 3);
        assert_eq!(
            text,
            "{\n  \"resources\": [\n    {\n      \"attributes\": {\"deep\":{\"x\":[1,{\"y\":2}]},\"n\":1}\n    }\n  ]\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn deep_files_read_back_and_hostile_ones_are_refused() {
        let mut v = json!({"name": "r0"});
        for i in 1..1000 {
            v = json!({"name": format!("r{i}"), "parent": v});
        }
        let text = to_string_layered(&v, 8);
        assert_eq!(from_str_deep::<serde_json::Value>(&text).unwrap(), v);
        let hostile = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let err = from_str_deep::<serde_json::Value>(&hostile).unwrap_err();
        assert!(err.contains("100000 levels"), "{err}");
        assert_eq!(nesting_depth(r#"{"a": "[[[{{{", "b": ["\"]"]}"#), 2);
    }

    #[test]
    fn a_thousand_levels_stay_linear() {
        let mut v = json!({"name": "r0"});
        for i in 1..1000 {
            v = json!({"name": format!("r{i}"), "parent": v});
        }
        let text = to_string_layered(&v, 8);
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        assert!(
            text.len() * 20 < pretty.len(),
            "{} vs {}",
            text.len(),
            pretty.len()
        );
        assert_eq!(from_str_deep::<serde_json::Value>(&text).unwrap(), v);
    }
}
