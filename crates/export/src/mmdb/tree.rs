//! The binary search tree of a MaxMind DB (spec v2.0, "Binary Search Tree
//! Section"), built in memory as a trie over 128-bit keys.

use crate::{Error, Format};

/// One record of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Record {
    /// No data for this subtree.
    Empty,
    /// The index of another node.
    Node(u32),
    /// An offset into the data section.
    Data(u32),
}

/// A search tree over 128-bit keys (IPv6 addresses; IPv4 at `::/96`).
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    nodes: Vec<[Record; 2]>,
}

impl Tree {
    /// A tree whose root leads nowhere.
    pub(crate) fn new() -> Tree {
        Tree { nodes: vec![[Record::Empty; 2]] }
    }

    /// Maps the network of the `prefix_len` leading bits of `key` to the
    /// data at `offset`.
    ///
    /// Insert networks in ascending prefix length: a network then takes
    /// over only the addresses that no more specific network claims, since
    /// the more specific ones come later and split it. `prefix_len` 0 (the
    /// whole space, which has no record) is ignored.
    pub(crate) fn insert(&mut self, key: u128, prefix_len: u8, offset: u32) -> Result<(), Error> {
        let mut node = 0usize;
        for depth in 0..prefix_len.min(128) {
            let bit = ((key >> (127 - depth)) & 1) as usize;
            if depth + 1 == prefix_len {
                self.nodes[node][bit] = Record::Data(offset);
                break;
            }
            node = match self.nodes[node][bit] {
                Record::Node(next) => next as usize,
                inherited @ (Record::Empty | Record::Data(_)) => {
                    let next = self.nodes.len();
                    let index = u32::try_from(next)
                        .map_err(|_| Error::TooLarge { format: Format::Mmdb, reason: "more than 2^32 tree nodes" })?;
                    self.nodes.push([inherited; 2]);
                    self.nodes[node][bit] = Record::Node(index);
                    next
                }
            };
        }
        Ok(())
    }

    /// The number of nodes.
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Writes the tree with records of `record_size` bits (24 or 32): a
    /// node points to node `n` as `n`, to no data as the node count, and to
    /// data at offset `o` as `node count + 16 + o`.
    pub(crate) fn write(&self, out: &mut dyn std::io::Write, record_size: u16) -> std::io::Result<()> {
        let node_count = self.nodes.len() as u64;
        let value = |record: Record| match record {
            Record::Empty => node_count,
            Record::Node(n) => u64::from(n),
            Record::Data(offset) => node_count + 16 + u64::from(offset),
        };
        let width = usize::from(record_size / 8);
        for node in &self.nodes {
            for record in node {
                let bytes = value(*record).to_be_bytes();
                out.write_all(&bytes[8 - width..])?;
            }
        }
        Ok(())
    }
}
