//! Retro-hunt: find the log lines that mention an address of an IP set.
//!
//! This is grepcidr's job, with the same answers: [`Scanner`] reports
//! exactly the lines that `grepcidr -f LIST LOG` (grepcidr 2.0, glibc)
//! prints, for a lookup holding the same addresses as `LIST`. The rules,
//! quirks included, are in the `line` module's docs; in short an address
//! counts wherever it starts (`x1.2.3.4` matches), but must end at a byte
//! that is not alphanumeric and not `.` (IPv6: nor `:`), so `1.2.3.4:443`,
//! `[1.2.3.4]` and `"1.2.3.4"` match while `1.2.3.4.5`, `999.1.1.1` and
//! `1.2.3.4x` do not.
//!
//! Inputs are read once. A regular file is memory-mapped; stdin, pipes,
//! FIFOs, devices and `.gz` files are streams ([`Input`]), scanned with
//! memory bounded whatever their size: a stream's line longer than
//! [`MAX_STREAM_LINE`] (64 KiB) is skipped and reported
//! ([`StreamSummary`]), not held.
//!
//! Lines holding NUL bytes are out of scope: grepcidr's `fgets`-based
//! reader splices them with the next line, which is not reproduced.
//!
//! ```
//! use cordon_netset::IpSet;
//! use cordon_scan::Scanner;
//! use ipnet::IpNet;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let set: IpSet = ["192.0.2.0/24".parse::<IpNet>()?].into_iter().collect();
//! let log = b"GET / from 192.0.2.7:443\nGET / from 192.0.2.7.1\n[2001:db8::1] ok\n";
//! let scanner = Scanner::new(&set);
//! assert_eq!(scanner.count(log, 2), 1);
//! let hits = scanner.hits(log, 1);
//! assert_eq!(hits[0].line.number, 1);
//! assert_eq!(hits[0].addrs[0].0.to_string(), "192.0.2.7");
//! # Ok(())
//! # }
//! ```
//!
//! # Speed
//!
//! grepcidr tests hints at every byte and calls `inet_pton` and a binary
//! search per candidate. Here a line costs one `memchr` for its end, its
//! `.`/`:` triggers are found 64 bytes at a time with SSE2 compares (see
//! the `line` module), candidates are parsed in place, gathered over many
//! lines and looked up in [`cordon_netset::IpSet`]'s bucketed table in one
//! prefetching batch (so their cache misses overlap), and a
//! memory-mapped input is cut at newlines into one chunk per thread whose
//! results are concatenated in order.

#![deny(missing_docs)]

mod error;
mod input;
mod line;
mod parse;
mod scanner;

pub use error::ScanError;
pub use input::Input;
pub use scanner::{AddrLookup, Hit, LineSpan, Scanner, StreamSummary, MAX_LISTED_OVERLONG, MAX_STREAM_LINE};
