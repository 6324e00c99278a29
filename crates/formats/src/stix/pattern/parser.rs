//! A recursive-descent parser for STIX patterns (STIX 2.1 section 9).
//!
//! Keywords are read case-insensitively; constants other than strings are
//! checked for shape but not kept. Nesting is bounded by [`MAX_DEPTH`] and
//! qualifiers by [`MAX_QUALIFIERS`], so a hostile pattern cannot exhaust the
//! stack, neither while it is read nor when its tree is walked or dropped:
//! each qualifier wraps the expression before it in one more
//! [`Observation::Qualified`] box, and 200,000 chained `REPEATS 2 TIMES` were
//! once a tree 200,000 boxes deep whose recursive drop overflowed the stack.

use super::{Comparison, Literal, ObjectPath, Observation, Op, PatternError, Test};

/// How deeply brackets and parentheses may nest.
const MAX_DEPTH: usize = 64;

/// How many qualifiers a whole pattern may have. With [`MAX_DEPTH`] this
/// bounds the depth of the tree: a level of parentheses adds at most three
/// nodes (FOLLOWEDBY, OR, AND), a qualifier one.
const MAX_QUALIFIERS: usize = 64;

/// Parses a complete pattern.
pub(in crate::stix) fn parse(pattern: &str) -> Result<Observation, PatternError> {
    let mut parser = Parser { src: pattern, pos: 0, depth: 0, qualifiers: 0 };
    let tree = parser.observation_expressions()?;
    parser.skip_ws();
    if parser.pos < pattern.len() {
        return parser.fail("unexpected text after the pattern");
    }
    Ok(tree)
}

/// A recursive-descent reader over the pattern text.
struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    qualifiers: usize,
}

type Parsed<T> = Result<T, PatternError>;

impl Parser<'_> {
    fn fail<T>(&self, message: &str) -> Parsed<T> {
        Err(PatternError { offset: self.pos, message: message.to_string() })
    }

    fn rest(&self) -> &str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// The next non-blank byte, without consuming it.
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.src.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, byte: u8, message: &str) -> Parsed<()> {
        if self.eat(byte) {
            Ok(())
        } else {
            self.fail(message)
        }
    }

    /// Consumes `keyword` (any case) when it comes next as a whole word.
    fn keyword(&mut self, keyword: &str) -> bool {
        self.skip_ws();
        let rest = self.rest().as_bytes();
        let Some(head) = rest.get(..keyword.len()) else {
            return false;
        };
        let boundary = !matches!(rest.get(keyword.len()), Some(b) if is_word_byte(*b) || *b == b':');
        if boundary && head.eq_ignore_ascii_case(keyword.as_bytes()) {
            self.pos += keyword.len();
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Parsed<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail("pattern nested too deeply");
        }
        Ok(())
    }

    fn observation_expressions(&mut self) -> Parsed<Observation> {
        let mut items = vec![self.observation_or()?];
        while self.keyword("FOLLOWEDBY") {
            items.push(self.observation_or()?);
        }
        Ok(collapse(items, Observation::FollowedBy))
    }

    fn observation_or(&mut self) -> Parsed<Observation> {
        let mut items = vec![self.observation_and()?];
        while self.keyword("OR") {
            items.push(self.observation_and()?);
        }
        Ok(collapse(items, Observation::Or))
    }

    fn observation_and(&mut self) -> Parsed<Observation> {
        let mut items = vec![self.observation_qualified()?];
        while self.keyword("AND") {
            items.push(self.observation_qualified()?);
        }
        Ok(collapse(items, Observation::And))
    }

    fn observation_qualified(&mut self) -> Parsed<Observation> {
        let mut tree = self.observation_primary()?;
        while self.qualifier()? {
            // Each qualifier is one more level of the tree.
            self.qualifiers += 1;
            if self.qualifiers > MAX_QUALIFIERS {
                return self.fail("too many qualifiers (WITHIN, REPEATS, START … STOP)");
            }
            tree = Observation::Qualified(Box::new(tree));
        }
        Ok(tree)
    }

    /// Reads one qualifier if one comes next.
    fn qualifier(&mut self) -> Parsed<bool> {
        if self.keyword("WITHIN") {
            self.number()?;
            if !self.keyword("SECONDS") {
                return self.fail("expected SECONDS after WITHIN");
            }
        } else if self.keyword("REPEATS") {
            self.number()?;
            if !self.keyword("TIMES") {
                return self.fail("expected TIMES after REPEATS");
            }
        } else if self.keyword("START") {
            self.timestamp()?;
            if !self.keyword("STOP") {
                return self.fail("expected STOP after START");
            }
            self.timestamp()?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    fn observation_primary(&mut self) -> Parsed<Observation> {
        match self.peek() {
            Some(b'[') => {
                self.pos += 1;
                self.enter()?;
                let comparison = self.comparison_or()?;
                self.expect(b']', "expected ']'")?;
                self.depth -= 1;
                Ok(Observation::Bracket(comparison))
            }
            Some(b'(') => {
                self.pos += 1;
                self.enter()?;
                let tree = self.observation_expressions()?;
                self.expect(b')', "expected ')'")?;
                self.depth -= 1;
                Ok(tree)
            }
            None => self.fail("unexpected end of pattern, expected '['"),
            Some(_) => self.fail("expected '[' or '('"),
        }
    }

    fn comparison_or(&mut self) -> Parsed<Comparison> {
        let mut items = vec![self.comparison_and()?];
        while self.keyword("OR") {
            items.push(self.comparison_and()?);
        }
        Ok(collapse(items, Comparison::Or))
    }

    fn comparison_and(&mut self) -> Parsed<Comparison> {
        let mut items = vec![self.comparison_test()?];
        while self.keyword("AND") {
            items.push(self.comparison_test()?);
        }
        Ok(collapse(items, Comparison::And))
    }

    fn comparison_test(&mut self) -> Parsed<Comparison> {
        if self.eat(b'(') {
            self.enter()?;
            let inner = self.comparison_or()?;
            self.expect(b')', "expected ')'")?;
            self.depth -= 1;
            return Ok(inner);
        }
        if self.keyword("EXISTS") {
            return Ok(Comparison::Exists(self.object_path()?));
        }
        let path = self.object_path()?;
        let negated = self.keyword("NOT");
        let op = self.operator()?;
        let value = if op == Op::In { self.list()? } else { self.literal()? };
        Ok(Comparison::Test(Test { path, negated, op, value }))
    }

    fn object_path(&mut self) -> Parsed<ObjectPath> {
        self.skip_ws();
        let type_len = self.rest().bytes().take_while(|b| is_word_byte(*b)).count();
        if type_len == 0 {
            return self.fail("expected an object path such as ipv4-addr:value");
        }
        let object_type = self.rest()[..type_len].to_ascii_lowercase();
        self.pos += type_len;
        if self.rest().as_bytes().first() != Some(&b':') {
            return self.fail("expected ':' after the object type");
        }
        self.pos += 1;
        let start = self.pos;
        self.path_step()?;
        loop {
            match self.rest().as_bytes().first() {
                Some(b'.') => {
                    self.pos += 1;
                    self.path_step()?;
                }
                Some(b'[') => {
                    self.pos += 1;
                    let index_len = self.rest().bytes().take_while(|b| b.is_ascii_digit() || *b == b'*').count();
                    if index_len == 0 || self.rest().as_bytes().get(index_len) != Some(&b']') {
                        return self.fail("expected a list index such as [0] or [*]");
                    }
                    self.pos += index_len + 1;
                }
                _ => break,
            }
        }
        let property = self.src[start..self.pos].to_string();
        Ok(ObjectPath { object_type, property })
    }

    fn path_step(&mut self) -> Parsed<()> {
        if self.rest().starts_with('\'') {
            self.string()?;
            return Ok(());
        }
        let len = self.rest().bytes().take_while(|b| is_word_byte(*b)).count();
        if len == 0 {
            return self.fail("expected a property name");
        }
        self.pos += len;
        Ok(())
    }

    fn operator(&mut self) -> Parsed<Op> {
        self.skip_ws();
        let rest = self.rest();
        for (symbol, op) in
            [("!=", Op::Ne), ("<=", Op::Order), (">=", Op::Order), ("<", Op::Order), (">", Op::Order), ("=", Op::Eq)]
        {
            if rest.starts_with(symbol) {
                self.pos += symbol.len();
                return Ok(op);
            }
        }
        for (word, op) in [
            ("IN", Op::In),
            ("LIKE", Op::Like),
            ("MATCHES", Op::Matches),
            ("ISSUBSET", Op::IsSubset),
            ("ISSUPERSET", Op::IsSuperset),
        ] {
            if self.keyword(word) {
                return Ok(op);
            }
        }
        self.fail("expected a comparison operator (=, !=, IN, LIKE, MATCHES, …)")
    }

    fn list(&mut self) -> Parsed<Literal> {
        self.expect(b'(', "expected '(' to open the list after IN")?;
        let mut items = vec![self.literal()?];
        while self.eat(b',') {
            items.push(self.literal()?);
        }
        self.expect(b')', "expected ')' to close the list")?;
        Ok(Literal::List(items))
    }

    fn literal(&mut self) -> Parsed<Literal> {
        self.skip_ws();
        let bytes = self.rest().as_bytes();
        let (first, second) = (bytes.first().copied(), bytes.get(1).copied());
        match (first, second) {
            (Some(b'\''), _) => Ok(Literal::Str(self.string()?)),
            (Some(b't' | b'h' | b'b'), Some(b'\'')) => {
                self.pos += 1;
                self.string()?;
                Ok(Literal::Other)
            }
            (Some(b), _) if b.is_ascii_digit() || b == b'-' || b == b'+' => {
                self.number()?;
                Ok(Literal::Other)
            }
            _ if self.keyword("true") || self.keyword("false") => Ok(Literal::Other),
            (None, _) => self.fail("unexpected end of pattern, expected a value"),
            _ => self.fail("expected a value (a quoted string, number or boolean)"),
        }
    }

    fn number(&mut self) -> Parsed<()> {
        self.skip_ws();
        let rest = self.rest();
        let sign = usize::from(rest.starts_with(['-', '+']));
        let len = rest[sign..].bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        if len == 0 {
            return self.fail("expected a number");
        }
        self.pos += sign + len;
        Ok(())
    }

    fn timestamp(&mut self) -> Parsed<()> {
        self.skip_ws();
        if !self.rest().starts_with("t'") {
            return self.fail("expected a timestamp t'…'");
        }
        self.pos += 1;
        self.string()?;
        Ok(())
    }

    /// Reads a single-quoted string (the cursor on the opening quote),
    /// resolving the `\'` and `\\` escapes.
    fn string(&mut self) -> Parsed<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((offset, c)) = chars.next() {
            match c {
                '\'' => {
                    self.pos += offset + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, escaped @ ('\'' | '\\'))) => out.push(escaped),
                    _ => {
                        self.pos += offset;
                        return self.fail("invalid escape in string (only \\' and \\\\ are allowed)");
                    }
                },
                other => out.push(other),
            }
        }
        self.pos = start;
        self.fail("unterminated string")
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// One item stays itself; several become `combine(items)`.
fn collapse<T>(mut items: Vec<T>, combine: fn(Vec<T>) -> T) -> T {
    match items.pop() {
        Some(only) if items.is_empty() => only,
        Some(last) => {
            items.push(last);
            combine(items)
        }
        None => combine(items),
    }
}
