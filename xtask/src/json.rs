//! Just enough JSON for xtask: the members of a top-level object and the elements of an array, as raw text slices
//! of a fully validated document.
//!
//! xtask reads two things from the pipeline's JSON files: whether `run.json` says `"complete": true`, and the
//! `records` of each `summary.json`, which it concatenates without re-encoding a single number. ARCHITECTURE.md keeps
//! `serde_json` out of xtask (it stays thin), and slices of the source text are all either job needs.
//!
//! ```ignore
//! let members = json::object_members(r#"{"complete": true, "epochs": 3}"#)?;
//! assert_eq!(json::member(&members, "complete"), Some("true"));
//! ```

use anyhow::{bail, Result};

/// The members of the top-level object in `text`, in order, as (unescaped key, raw value text).
pub fn object_members(text: &str) -> Result<Vec<(String, &str)>> {
    let mut parser = Parser { text, pos: 0 };
    parser.skip_whitespace();
    let members = parser.object()?;
    parser.skip_whitespace();
    if parser.pos != text.len() {
        bail!("unexpected text after the JSON value at byte {}", parser.pos);
    }
    Ok(members)
}

/// The elements of the array `raw` (a value text from [`object_members`]), as raw value texts.
pub fn array_elements(raw: &str) -> Result<Vec<&str>> {
    let mut parser = Parser { text: raw, pos: 0 };
    parser.skip_whitespace();
    let elements = parser.array()?;
    parser.skip_whitespace();
    if parser.pos != raw.len() {
        bail!("unexpected text after the JSON array at byte {}", parser.pos);
    }
    Ok(elements)
}

/// The raw value of `key` among `members` (the last one, as JSON parsers keep it).
pub fn member<'a>(members: &[(String, &'a str)], key: &str) -> Option<&'a str> {
    members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// `s` as a JSON string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<()> {
        match self.peek() {
            Some(b) if b == byte => {
                self.pos += 1;
                Ok(())
            }
            Some(b) => bail!("expected `{}` at byte {}, found `{}`", byte as char, self.pos, b as char),
            None => bail!("expected `{}` at byte {}, found the end", byte as char, self.pos),
        }
    }

    /// Skips one value (whitespace already skipped) and returns its raw text.
    fn value(&mut self) -> Result<&'a str> {
        let start = self.pos;
        match self.peek() {
            Some(b'{') => {
                self.object()?;
            }
            Some(b'[') => {
                self.array()?;
            }
            Some(b'"') => {
                self.string()?;
            }
            Some(b't') => self.literal("true")?,
            Some(b'f') => self.literal("false")?,
            Some(b'n') => self.literal("null")?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b) => bail!("unexpected `{}` at byte {}", b as char, self.pos),
            None => bail!("unexpected end of JSON at byte {}", self.pos),
        }
        Ok(&self.text[start..self.pos])
    }

    fn object(&mut self) -> Result<Vec<(String, &'a str)>> {
        self.expect(b'{')?;
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(members);
        }
        loop {
            self.skip_whitespace();
            let key = self.string()?;
            self.skip_whitespace();
            self.expect(b':')?;
            self.skip_whitespace();
            let value = self.value()?;
            members.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(members);
                }
                _ => bail!("expected `,` or `}}` at byte {}", self.pos),
            }
        }
    }

    fn array(&mut self) -> Result<Vec<&'a str>> {
        self.expect(b'[')?;
        let mut elements = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(elements);
        }
        loop {
            self.skip_whitespace();
            elements.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(elements);
                }
                _ => bail!("expected `,` or `]` at byte {}", self.pos),
            }
        }
    }

    /// A string literal, unescaped.
    fn string(&mut self) -> Result<String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            let Some(c) = rest.chars().next() else { bail!("unterminated string at byte {}", self.pos) };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(e) = self.peek() else { bail!("unterminated escape at byte {}", self.pos) };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
                            let code = u32::from_str_radix(hex, 16)
                                .map_err(|_| anyhow::anyhow!("bad \\u escape at byte {}", self.pos))?;
                            self.pos += 4;
                            // Surrogate pairs are not needed for keys: keep the replacement character.
                            out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                        }
                        other => bail!("bad escape `\\{}` at byte {}", other as char, self.pos - 1),
                    }
                }
                c if (c as u32) < 0x20 => bail!("control character in a string at byte {}", self.pos - 1),
                c => out.push(c),
            }
        }
    }

    fn literal(&mut self, word: &str) -> Result<()> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            bail!("expected `{word}` at byte {}", self.pos)
        }
    }

    fn number(&mut self) -> Result<()> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos > from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        if !digits(self) {
            bail!("bad number at byte {start}");
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                bail!("bad number at byte {start}");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                bail!("bad number at byte {start}");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_raw_values() {
        let text = r#" { "complete" : true, "loss": [1.5e-3, -2, {"a": "x\"y"}], "name": "r\u00e9sum\u00e9" } "#;
        let members = object_members(text).unwrap();
        assert_eq!(members.len(), 3);
        assert_eq!(member(&members, "complete"), Some("true"));
        assert_eq!(member(&members, "loss"), Some(r#"[1.5e-3, -2, {"a": "x\"y"}]"#));
        assert_eq!(member(&members, "name"), Some(r#""r\u00e9sum\u00e9""#));
        let elements = array_elements(member(&members, "loss").unwrap()).unwrap();
        assert_eq!(elements, vec!["1.5e-3", "-2", r#"{"a": "x\"y"}"#]);
    }

    #[test]
    fn keys_are_unescaped_and_last_duplicate_wins() {
        let members = object_members(r#"{"a\"b": 1, "k": 1, "k": 2}"#).unwrap();
        assert_eq!(members[0].0, "a\"b");
        assert_eq!(member(&members, "k"), Some("2"));
        assert_eq!(member(&members, "missing"), None);
    }

    #[test]
    fn empty_containers() {
        assert!(object_members("{}").unwrap().is_empty());
        assert!(array_elements(" [ ] ").unwrap().is_empty());
    }

    #[test]
    fn malformed_documents_fail() {
        for bad in [
            "",
            "{",
            r#"{"a": }"#,
            r#"{"a": 1,}"#,
            r#"{"a": 1} x"#,
            r#"{"a": tru}"#,
            r#"{"a": 01x}"#,
            r#"{"a": "unterminated}"#,
            "[1, 2]",
            r#"{"a": 1.}"#,
        ] {
            assert!(object_members(bad).is_err(), "accepted {bad:?}");
        }
        assert!(array_elements("[1,]").is_err());
        assert!(array_elements("{}").is_err());
    }

    #[test]
    fn quote_escapes() {
        assert_eq!(quote("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
        let text = format!("{{{}: 1}}", quote("x\"\n"));
        let members = object_members(&text).unwrap();
        assert_eq!(members[0].0, "x\"\n");
    }
}
