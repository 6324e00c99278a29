//! [`Scanner`]: matching lines of a buffer or stream against an address set.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use cordon_netset::{IpMap, IpSet};
use memchr::memchr;

use crate::line::{for_each_candidate, Candidate, Families};
use crate::ScanError;

/// What a [`Scanner`] looks addresses up in. Implemented for
/// [`IpSet`] and [`IpMap`].
pub trait AddrLookup: Sync {
    /// Whether any IPv4 address is in the lookup (grepcidr only searches a
    /// line for IPv4 addresses when its list has IPv4 patterns).
    fn has_v4(&self) -> bool;
    /// Whether any IPv6 address is in the lookup.
    fn has_v6(&self) -> bool;
    /// Whether the IPv4 address (host-order integer) is in the lookup.
    fn contains_v4(&self, addr: u32) -> bool;
    /// Whether the IPv6 address (host-order integer) is in the lookup.
    fn contains_v6(&self, addr: u128) -> bool;

    /// Looks up many IPv4 addresses: `out[i] = contains_v4(addrs[i])`.
    /// Override it when batching is faster (it is for [`IpSet`]).
    fn contains_v4_many(&self, addrs: &[u32], out: &mut [bool]) {
        for (&addr, result) in addrs.iter().zip(out.iter_mut()) {
            *result = self.contains_v4(addr);
        }
    }
}

impl AddrLookup for IpSet {
    fn has_v4(&self) -> bool {
        IpSet::has_v4(self)
    }
    fn has_v6(&self) -> bool {
        IpSet::has_v6(self)
    }
    #[inline]
    fn contains_v4(&self, addr: u32) -> bool {
        self.contains_v4_bits(addr)
    }
    #[inline]
    fn contains_v6(&self, addr: u128) -> bool {
        self.contains_v6_bits(addr)
    }
    fn contains_v4_many(&self, addrs: &[u32], out: &mut [bool]) {
        IpSet::contains_v4_many(self, addrs, out);
    }
}

impl<V: Sync> AddrLookup for IpMap<V> {
    fn has_v4(&self) -> bool {
        IpMap::has_v4(self)
    }
    fn has_v6(&self) -> bool {
        IpMap::has_v6(self)
    }
    #[inline]
    fn contains_v4(&self, addr: u32) -> bool {
        !self.covering(IpAddr::V4(Ipv4Addr::from(addr))).is_empty()
    }
    #[inline]
    fn contains_v6(&self, addr: u128) -> bool {
        !self.covering(IpAddr::V6(Ipv6Addr::from(addr))).is_empty()
    }
}

/// A line of the input: its 1-based number and byte offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineSpan {
    /// 1-based line number.
    pub number: u64,
    /// Offset of the line's first byte.
    pub start: usize,
    /// Offset just past the line, including its newline if it has one.
    pub end: usize,
}

/// A matching line and the addresses in it that are in the lookup, in the
/// order grepcidr would find them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Where the line is.
    pub line: LineSpan,
    /// The matching addresses with their byte offsets within the line.
    pub addrs: Vec<(IpAddr, std::ops::Range<usize>)>,
}

/// How much to report per matching line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Detail {
    /// Stop at the first matching address (count and print modes).
    First,
    /// Collect every matching address (hits mode).
    All,
}

/// Scans bytes for lines that contain an address of a lookup, with
/// grepcidr 2.0's matching rules (see the crate docs).
#[derive(Debug)]
pub struct Scanner<'a, L: ?Sized> {
    lookup: &'a L,
    families: Families,
}

/// Below this size a buffer is scanned on one thread.
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// grepcidr's initial line buffer size (`MAXFIELD`).
const INITIAL_CAPACITY: usize = 512;

/// The longest line [`Scanner::scan_reader`] scans, in bytes without the
/// newline (64 KiB, the line cap of the feed parsers,
/// `cordon_formats::MAX_LINE`; the binary's tests check they agree).
pub const MAX_STREAM_LINE: usize = 64 * 1024;

/// How many over-long line numbers a [`StreamSummary`] keeps.
pub const MAX_LISTED_OVERLONG: usize = 10;

/// What [`Scanner::scan_reader`] read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamSummary {
    /// Matching lines (each reported to the callback).
    pub matching_lines: u64,
    /// Lines read, over-long ones included.
    pub lines: u64,
    /// Lines longer than [`MAX_STREAM_LINE`], consumed but not scanned.
    pub overlong_lines: u64,
    /// The numbers of the first [`MAX_LISTED_OVERLONG`] of them.
    pub first_overlong: Vec<u64>,
}

impl<'a, L: AddrLookup + ?Sized> Scanner<'a, L> {
    /// A scanner for `lookup`.
    pub fn new(lookup: &'a L) -> Self {
        Scanner { lookup, families: Families { v4: lookup.has_v4(), v6: lookup.has_v6() } }
    }

    /// Number of matching lines in `buf`, using up to `threads` threads
    /// (`grepcidr -c`).
    pub fn count(&self, buf: &[u8], threads: usize) -> u64 {
        let parts = self.run_parallel(buf, threads, |scan, chunk, prefix| {
            let mut count = 0u64;
            let lines = scan.scan_chunk(chunk, prefix, Detail::First, |_| count += 1);
            (count, lines)
        });
        parts.iter().map(|(count, _)| count).sum()
    }

    /// The matching lines of `buf` in order, using up to `threads` threads
    /// (what `grepcidr` prints).
    pub fn matching_lines(&self, buf: &[u8], threads: usize) -> Vec<LineSpan> {
        self.collect(buf, threads, Detail::First).into_iter().map(|hit| hit.line).collect()
    }

    /// Every matching line of `buf` with all its matching addresses, in
    /// order, using up to `threads` threads.
    pub fn hits(&self, buf: &[u8], threads: usize) -> Vec<Hit> {
        self.collect(buf, threads, Detail::All)
    }

    /// Streams `reader` (stdin, a pipe, a decompressor) on one thread,
    /// calling `on_hit` with each matching line and its bytes. With
    /// `all_addrs` false only the first matching address of each line is
    /// reported.
    ///
    /// Memory stays bounded whatever the input: a line longer than
    /// [`MAX_STREAM_LINE`] bytes (its newline not counted) is consumed up to
    /// its end without being held, not scanned, and reported in the
    /// summary. This is the one place where a stream's answers can differ
    /// from a mapped file's (which has no line cap, as grepcidr has none):
    /// a scanner that kept such lines would need memory as large as the
    /// longest line, and a `.gz` of zeros is a line of any length.
    pub fn scan_reader<R: Read>(
        &self,
        mut reader: R,
        all_addrs: bool,
        mut on_hit: impl FnMut(&Hit, &[u8]),
    ) -> Result<StreamSummary, ScanError> {
        /// Bytes asked of the reader at a time.
        const READ_SIZE: usize = 1 << 20;
        let detail = if all_addrs { Detail::All } else { Detail::First };
        // Holds at most an unfinished line of MAX_STREAM_LINE bytes and one read.
        let mut buf: Vec<u8> = Vec::with_capacity(MAX_STREAM_LINE + 1 + READ_SIZE);
        let mut state = LineState::new(None);
        state.max_line = MAX_STREAM_LINE;
        let mut matching = 0u64;
        let mut consumed = 0usize; // bytes before buf[0]
                                   // Bytes of an over-long line consumed so far, while skipping one.
        let mut skipping: Option<usize> = None;
        loop {
            let old = buf.len();
            buf.resize(old + READ_SIZE, 0);
            let read = loop {
                match reader.read(&mut buf[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(ScanError::Read(e)),
                }
            };
            buf.truncate(old + read);
            let eof = read == 0;
            let mut from = 0usize;
            if let Some(skipped) = skipping {
                match memchr(b'\n', &buf) {
                    Some(nl) => {
                        state.skip_overlong(skipped + nl + 1);
                        skipping = None;
                        from = nl + 1;
                    }
                    None if eof => {
                        state.skip_overlong(skipped + buf.len());
                        break;
                    }
                    None => {
                        skipping = Some(skipped + buf.len());
                        consumed += buf.len();
                        buf.clear();
                        continue;
                    }
                }
            }
            // Complete lines only, except at the end of input.
            let usable =
                if eof { buf.len() } else { memchr::memrchr(b'\n', &buf[from..]).map_or(from, |last| from + last + 1) };
            let chunk = &buf[from..usable];
            let base = consumed + from;
            let mut pending = Vec::new();
            self.scan_lines(chunk, &mut state, detail, |hit| pending.push(hit));
            for mut hit in pending {
                let bytes = &chunk[hit.line.start..hit.line.end];
                hit.line.start += base;
                hit.line.end += base;
                on_hit(&hit, bytes);
                matching += 1;
            }
            buf.drain(..usable);
            consumed += usable;
            if eof {
                break;
            }
            // What is left is the start of a line; past the cap it is
            // over-long whatever follows, so it is dropped, not kept.
            if buf.len() > MAX_STREAM_LINE {
                skipping = Some(buf.len());
                consumed += buf.len();
                buf.clear();
            }
        }
        Ok(StreamSummary {
            matching_lines: matching,
            lines: state.line_number,
            overlong_lines: state.overlong,
            first_overlong: state.first_overlong,
        })
    }

    fn collect(&self, buf: &[u8], threads: usize, detail: Detail) -> Vec<Hit> {
        let parts = self.run_parallel(buf, threads, |scan, chunk, prefix| {
            let mut hits = Vec::new();
            let lines = scan.scan_chunk(chunk, prefix, detail, |hit| hits.push(hit));
            (hits, lines)
        });
        let mut out = Vec::new();
        let mut offset = 0usize;
        let mut lines_before = 0u64;
        for (hits, (chunk_len, lines)) in parts {
            out.extend(hits.into_iter().map(|mut hit| {
                hit.line.start += offset;
                hit.line.end += offset;
                hit.line.number += lines_before;
                hit
            }));
            offset += chunk_len;
            lines_before += lines;
        }
        out
    }

    /// Splits `buf` at newlines into up to `threads` chunks, runs `work` on
    /// each (chunk, bytes before it) and returns the results in order, each
    /// with (chunk length, line count).
    fn run_parallel<T: Send>(
        &self,
        buf: &[u8],
        threads: usize,
        work: impl Fn(&Self, &[u8], &[u8]) -> (T, u64) + Sync,
    ) -> Vec<(T, (usize, u64))> {
        let threads = threads.max(1);
        let mut bounds = vec![0usize];
        if threads > 1 && buf.len() >= PARALLEL_MIN_BYTES {
            for i in 1..threads {
                let guess = buf.len() / threads * i;
                let prev = bounds.last().copied().unwrap_or(0);
                if guess <= prev {
                    continue;
                }
                if let Some(nl) = memchr(b'\n', &buf[guess..]) {
                    bounds.push(guess + nl + 1);
                }
            }
        }
        bounds.push(buf.len());
        bounds.dedup();
        let chunks: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
        if chunks.len() <= 1 {
            let (result, lines) = work(self, buf, &[]);
            return vec![(result, (buf.len(), lines))];
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .iter()
                .map(|&(start, end)| {
                    let work = &work;
                    scope.spawn(move || {
                        let (result, lines) = work(self, &buf[start..end], &buf[..start]);
                        (result, (end - start, lines))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| match handle.join() {
                    Ok(part) => part,
                    // A panic in a scan thread is a bug; re-raise it here.
                    Err(payload) => std::panic::resume_unwind(payload),
                })
                .collect()
        })
    }

    /// Scans one chunk that starts at a line start; `prefix` holds all bytes
    /// before it (only read, lazily, for the buffer-size quirk). Returns the
    /// number of lines in the chunk.
    fn scan_chunk(&self, chunk: &[u8], prefix: &[u8], detail: Detail, on_hit: impl FnMut(Hit)) -> u64 {
        let mut state = LineState::new((!prefix.is_empty()).then_some(prefix));
        self.scan_lines(chunk, &mut state, detail, on_hit)
    }

    /// Scans the lines of `chunk`, reporting matching lines to `on_hit`;
    /// returns the number of lines.
    ///
    /// Candidates are collected over many lines and their IPv4 lookups made
    /// in one batch ([`AddrLookup::contains_v4_many`]), so that the cache
    /// misses of a batch overlap instead of each line waiting for its own:
    /// with a 1,000,000-entry set a lookup is a random read of a multi-MiB
    /// table. A line's candidates after its first hit are then looked up
    /// too, which costs little next to the misses it hides.
    fn scan_lines(&self, chunk: &[u8], state: &mut LineState<'_>, detail: Detail, mut on_hit: impl FnMut(Hit)) -> u64 {
        let mut start = 0usize;
        let mut batch = Batch::default();
        while start < chunk.len() {
            let rest = &chunk[start..];
            let (content_len, total_len, terminated) = match memchr(b'\n', rest) {
                Some(nl) => (nl, nl + 1, true),
                None => (rest.len(), rest.len(), false),
            };
            state.line_number += 1;
            if content_len > state.max_line {
                state.note_overlong(total_len);
                start += total_len;
                continue;
            }
            if let Some(limit) = state.limit(content_len, total_len, terminated) {
                let line = LineSpan { number: state.line_number, start, end: start + total_len };
                batch.add_line(line, &rest[..content_len], limit, self.families);
                if batch.found.len() >= BATCH_CANDIDATES {
                    batch.flush(self.lookup, detail, &mut on_hit);
                }
            }
            start += total_len;
        }
        batch.flush(self.lookup, detail, &mut on_hit);
        state.line_number
    }
}

/// Candidates gathered before one batched lookup.
const BATCH_CANDIDATES: usize = 256;

/// Lines with candidates, waiting for their lookups.
#[derive(Default)]
struct Batch {
    /// The lines that have at least one candidate, in order.
    lines: Vec<LineSpan>,
    /// Each candidate: its line (index into `lines`) and byte range within
    /// the line, in order.
    found: Vec<(usize, Candidate, std::ops::Range<usize>)>,
    /// The IPv4 candidates of `found`, in order, and whether each is listed.
    v4: Vec<u32>,
    v4_listed: Vec<bool>,
}

impl Batch {
    /// Gathers the candidates of `content`, the line at `line`.
    fn add_line(&mut self, line: LineSpan, content: &[u8], limit: usize, families: Families) {
        let index = self.lines.len();
        let before = self.found.len();
        for_each_candidate(content, limit, families, |candidate, start, end| {
            self.found.push((index, candidate, start..end));
        });
        if self.found.len() > before {
            self.lines.push(line);
        }
    }

    /// Reports line `index` with `addrs` if it has any, leaving `addrs`
    /// empty.
    fn report(
        &self,
        index: Option<usize>,
        addrs: &mut Vec<(IpAddr, std::ops::Range<usize>)>,
        on_hit: &mut impl FnMut(Hit),
    ) {
        if let Some(&line) = index.and_then(|i| self.lines.get(i)).filter(|_| !addrs.is_empty()) {
            on_hit(Hit { line, addrs: std::mem::take(addrs) });
        }
    }

    /// Looks every gathered candidate up and reports the matching lines in
    /// order (with their first or all matching addresses); empties the batch.
    fn flush<L: AddrLookup + ?Sized>(&mut self, lookup: &L, detail: Detail, on_hit: &mut impl FnMut(Hit)) {
        self.v4.clear();
        self.v4.extend(self.found.iter().filter_map(|(_, candidate, _)| match candidate {
            Candidate::V4(addr) => Some(*addr),
            Candidate::V6(_) => None,
        }));
        self.v4_listed.clear();
        self.v4_listed.resize(self.v4.len(), false);
        lookup.contains_v4_many(&self.v4, &mut self.v4_listed);
        let mut v4_listed = self.v4_listed.iter();
        let mut current: Option<usize> = None;
        let mut addrs = Vec::new();
        let mut found = std::mem::take(&mut self.found);
        for (index, candidate, range) in found.drain(..) {
            if current != Some(index) {
                self.report(current, &mut addrs, on_hit);
                current = Some(index);
            }
            let (listed, addr) = match candidate {
                Candidate::V4(a) => (v4_listed.next().is_some_and(|&listed| listed), IpAddr::V4(Ipv4Addr::from(a))),
                Candidate::V6(a) => (lookup.contains_v6(a), IpAddr::V6(Ipv6Addr::from(a))),
            };
            if listed && (detail == Detail::All || addrs.is_empty()) {
                addrs.push((addr, range));
            }
        }
        self.report(current, &mut addrs, on_hit);
        self.found = found;
        self.lines.clear();
    }
}

/// grepcidr's line-buffer capacity as it evolves over a stream, and the
/// line count.
struct LineState<'p> {
    capacity: usize,
    /// Bytes before this chunk whose longest line has not been folded into
    /// `capacity` yet (done only when a line's result depends on it).
    prefix: Option<&'p [u8]>,
    line_number: u64,
    /// Lines whose content is longer than this are not scanned (streams
    /// only; `usize::MAX` for buffers).
    max_line: usize,
    /// How many lines were too long, and the first few line numbers.
    overlong: u64,
    first_overlong: Vec<u64>,
}

impl<'p> LineState<'p> {
    fn new(prefix: Option<&'p [u8]>) -> Self {
        LineState {
            capacity: INITIAL_CAPACITY,
            prefix,
            line_number: 0,
            max_line: usize::MAX,
            overlong: 0,
            first_overlong: Vec::new(),
        }
    }

    /// Counts a new over-long line of `total_len` bytes that was consumed
    /// whole without being held.
    fn skip_overlong(&mut self, total_len: usize) {
        self.line_number += 1;
        self.note_overlong(total_len);
    }

    /// Records the current line as over-long. grepcidr would have grown its
    /// buffer for it, so the capacity grows too: the lines after it are
    /// limited as grepcidr limits them.
    fn note_overlong(&mut self, total_len: usize) {
        self.capacity = grow(self.capacity, total_len.saturating_add(1));
        self.overlong += 1;
        if self.first_overlong.len() < MAX_LISTED_OVERLONG {
            self.first_overlong.push(self.line_number);
        }
    }

    /// The scan limit for a line (positions `< capacity - 5` are tested),
    /// or `None` when grepcidr drops the line: an unterminated last line
    /// that exactly fills the buffer is lost by its `fgets` loop.
    fn limit(&mut self, content_len: usize, total_len: usize, terminated: bool) -> Option<usize> {
        let need = total_len + 1; // line plus NUL
        let mut capacity = grow(self.capacity, need);
        let sensitive = capacity - 5 < content_len || (!terminated && capacity == need);
        if sensitive {
            if let Some(prefix) = self.prefix.take() {
                let longest = longest_line(prefix);
                self.capacity = grow(self.capacity, longest + 1);
                capacity = grow(self.capacity, need);
            }
        }
        self.capacity = capacity;
        if !terminated && capacity == need {
            return None;
        }
        Some(capacity - 5)
    }
}

/// Smallest `capacity * 2^k` that is `>= need`.
fn grow(mut capacity: usize, need: usize) -> usize {
    while capacity < need && capacity < usize::MAX {
        capacity = capacity.saturating_mul(2);
    }
    capacity
}

/// Length (with newline) of the longest line in `bytes`.
fn longest_line(bytes: &[u8]) -> usize {
    let mut longest = 0usize;
    let mut start = 0usize;
    for nl in memchr::memchr_iter(b'\n', bytes) {
        longest = longest.max(nl + 1 - start);
        start = nl + 1;
    }
    longest.max(bytes.len() - start)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per read.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// An endless run of one byte, ended after `len` bytes.
    struct Repeat {
        byte: u8,
        left: usize,
        then: &'static [u8],
    }

    impl Read for Repeat {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.left == 0 {
                let n = self.then.len().min(buf.len());
                buf[..n].copy_from_slice(&self.then[..n]);
                self.then = &self.then[n..];
                return Ok(n);
            }
            let n = self.left.min(buf.len());
            buf[..n].fill(self.byte);
            self.left -= n;
            Ok(n)
        }
    }

    fn set() -> IpSet {
        ["192.0.2.0/24".parse::<ipnet::IpNet>().unwrap()].into_iter().collect()
    }

    fn streamed(scanner: &Scanner<'_, IpSet>, reader: impl Read) -> (StreamSummary, Vec<(u64, usize, usize)>) {
        let mut hits = Vec::new();
        let summary = scanner
            .scan_reader(reader, false, |hit, _| hits.push((hit.line.number, hit.line.start, hit.line.end)))
            .unwrap();
        (summary, hits)
    }

    /// Lines over the cap are skipped and numbered, whatever the read sizes,
    /// and the lines around them keep their numbers and offsets.
    #[test]
    fn stream_lines_over_the_cap_are_skipped_and_reported() {
        let mut log = b"a 192.0.2.1\n".to_vec();
        log.extend(vec![b'x'; MAX_STREAM_LINE + 1]);
        log.extend(b" 192.0.2.2\nb 192.0.2.3\n");
        log.extend(vec![b'y'; MAX_STREAM_LINE]);
        log.extend(b"\n");
        log.extend(vec![b'z'; 3 * MAX_STREAM_LINE]);
        log.extend(b"192.0.2.4");
        let set = set();
        let scanner = Scanner::new(&set);
        let second = 12 + MAX_STREAM_LINE + 1 + 11;
        for step in [1 << 20, 4096, 7] {
            let (summary, hits) = streamed(&scanner, Trickle { data: &log, step });
            assert_eq!(hits, [(1, 0, 12), (3, second, second + 12)], "step {step}");
            assert_eq!(summary.matching_lines, 2);
            assert_eq!(summary.lines, 5);
            assert_eq!(summary.overlong_lines, 2, "exactly MAX_STREAM_LINE bytes is scanned");
            assert_eq!(summary.first_overlong, [2, 5]);
        }
        // A mapped buffer has no cap (grepcidr has none).
        assert_eq!(scanner.count(&log, 1), 4);
    }

    /// A stream without newlines is read to its end and scanning goes on
    /// after it.
    #[test]
    fn a_long_run_without_newlines_is_skipped() {
        let set = set();
        let scanner = Scanner::new(&set);
        let reader = Repeat { byte: 0, left: 64 << 20, then: b"\n192.0.2.9\n" };
        let (summary, hits) = streamed(&scanner, reader);
        assert_eq!(summary.lines, 2);
        assert_eq!(summary.first_overlong, [1]);
        assert_eq!(hits, [(2, (64 << 20) + 1, (64 << 20) + 11)]);
    }
}
