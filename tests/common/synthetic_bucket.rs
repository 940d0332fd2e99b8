//! A bucket that exists only as a rule: key `i` of `n` is computed, in byte order, so a listing
//! of 1,000,000 keys stores none of them. Listing follows ListObjectsV2: keys under a prefix in
//! byte order, folded into common prefixes at a delimiter, resumed strictly after a key (a
//! continuation token or `StartAfter`) or after every key of a common prefix.

#![allow(dead_code)]

/// The shape of the keys below the bucket's root.
#[derive(Clone, Copy, Debug)]
pub enum Layout {
    /// `<root>k00000000.jpg` … : one flat prefix of `keys` keys.
    Flat { keys: usize },
    /// `<root>p00000/k0000000.jpg` … : `prefixes` prefixes of `per_prefix` keys each.
    Prefixes { prefixes: usize, per_prefix: usize },
}

#[derive(Clone, Debug)]
pub struct SyntheticBucket {
    pub name: String,
    /// Every key starts with it (`data/`).
    pub root: String,
    pub layout: Layout,
}

/// Where a listing starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resume {
    Start,
    /// Strictly after this key (it need not exist).
    AfterKey(String),
    /// After every key that starts with this common prefix.
    AfterPrefix(String),
}

/// One ListObjectsV2 call, decoded.
#[derive(Clone, Debug)]
pub struct ListQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    pub resume: Resume,
    pub max_keys: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The index of a key.
    Object(usize),
    CommonPrefix(String),
}

/// One page: its entries, and where the next page resumes when there is more.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    pub entries: Vec<Entry>,
    pub next: Option<Resume>,
}

impl SyntheticBucket {
    pub fn new(name: &str, root: &str, layout: Layout) -> SyntheticBucket {
        let (name, root) = (name.to_owned(), root.to_owned());
        SyntheticBucket { name, root, layout }
    }

    pub fn len(&self) -> usize {
        match self.layout {
            Layout::Flat { keys } => keys,
            Layout::Prefixes {
                prefixes,
                per_prefix,
            } => prefixes * per_prefix,
        }
    }

    /// Key `i`; fixed-width numbers make byte order the numeric order.
    pub fn key(&self, i: usize) -> String {
        match self.layout {
            Layout::Flat { .. } => format!("{}k{i:08}.jpg", self.root),
            Layout::Prefixes { per_prefix, .. } => {
                let (p, k) = (i / per_prefix, i % per_prefix);
                format!("{}p{p:05}/k{k:07}.jpg", self.root)
            }
        }
    }

    /// Every key in order (for tests; a 1,000,000-key bucket makes 1,000,000 strings).
    pub fn keys(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.len()).map(|i| self.key(i))
    }

    pub fn size(&self, i: usize) -> u64 {
        512 + (i % 512) as u64
    }

    /// A quoted ETag unique to key `i`.
    pub fn etag(&self, i: usize) -> String {
        let mixed = (i as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
        format!("\"{mixed:032x}\"")
    }

    /// The index of `key`, if the bucket has it.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        let i = self.first_not(|k| k < key);
        (i < self.len() && self.key(i) == key).then_some(i)
    }

    /// The first index whose key fails `before` (which must hold for a head of the keys only).
    fn first_not(&self, before: impl Fn(&str) -> bool) -> usize {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let middle = low + (high - low) / 2;
            if before(&self.key(middle)) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }

    /// The first index a listing of `query` looks at.
    fn start(&self, query: &ListQuery) -> usize {
        let under = self.first_not(|k| k < query.prefix.as_str());
        let resumed = match &query.resume {
            Resume::Start => 0,
            Resume::AfterKey(after) => self.first_not(|k| k <= after.as_str()),
            Resume::AfterPrefix(folded) => self.skip_prefix(folded),
        };
        under.max(resumed)
    }

    /// The first index after every key that starts with `folded`.
    fn skip_prefix(&self, folded: &str) -> usize {
        self.first_not(|k| k < folded || k.starts_with(folded))
    }

    /// One page of a ListObjectsV2 listing.
    pub fn list(&self, query: &ListQuery) -> Listing {
        let mut listing = Listing::default();
        let mut i = self.start(query);
        while i < self.len() {
            let key = self.key(i);
            if !key.starts_with(&query.prefix) {
                break;
            }
            if listing.entries.len() >= query.max_keys.max(1) {
                listing.next = listing.entries.last().map(|e| self.resume_after(e));
                break;
            }
            let rest = &key[query.prefix.len()..];
            let cut = query.delimiter.as_deref().filter(|d| !d.is_empty());
            match cut.and_then(|d| rest.find(d).map(|at| at + d.len())) {
                Some(end) => {
                    let folded = key[..query.prefix.len() + end].to_owned();
                    i = self.skip_prefix(&folded);
                    listing.entries.push(Entry::CommonPrefix(folded));
                }
                None => {
                    listing.entries.push(Entry::Object(i));
                    i += 1;
                }
            }
        }
        listing
    }

    /// Where the page after `entry` starts.
    fn resume_after(&self, entry: &Entry) -> Resume {
        match entry {
            Entry::Object(i) => Resume::AfterKey(self.key(*i)),
            Entry::CommonPrefix(folded) => Resume::AfterPrefix(folded.clone()),
        }
    }
}
