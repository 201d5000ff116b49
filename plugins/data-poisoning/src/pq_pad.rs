//! Padding of PLAIN BYTE_ARRAY pages against a panic in the `parquet`
//! crate (60.1), for every codec's pages.

use bytes::Bytes;
use parquet::basic::{Encoding, Type as Physical};
use parquet::column::page::{Page, PageMetadata, PageReader};
use parquet::errors::Result;

/// Length prefix appended after PLAIN BYTE_ARRAY values (see [`pad`]).
const PAD: [u8; 4] = 0x7fff_ffffu32.to_le_bytes();

/// Append a length prefix that overruns any page after the values of a
/// PLAIN BYTE_ARRAY page (data or dictionary).
///
/// The crate (60.1) reads each value's 4-byte length without checking that
/// 4 bytes are left, so a page (or dictionary) that claims more values than
/// it holds panics it. With this prefix after the real values, such a read
/// finds a length of 2 GiB instead and returns the crate's own "not enough
/// bytes" error; real reads never reach it. (2^31 - 1 plus a page offset
/// below 256 MiB cannot overflow a 32-bit `usize`.)
pub fn pad(mut page: Page, physical: Physical) -> Page {
    if physical != Physical::BYTE_ARRAY {
        return page;
    }
    let (Page::DictionaryPage { buf, encoding, .. }
    | Page::DataPage { buf, encoding, .. }
    | Page::DataPageV2 { buf, encoding, .. }) = &mut page;
    if matches!(encoding, Encoding::PLAIN | Encoding::PLAIN_DICTIONARY) {
        let mut v = Vec::with_capacity(buf.len() + PAD.len());
        v.extend_from_slice(buf);
        v.extend_from_slice(&PAD);
        *buf = Bytes::from(v);
    }
    page
}

/// The crate's own page reader (uncompressed, SNAPPY, GZIP), with PLAIN
/// BYTE_ARRAY pages [padded](pad).
pub struct Padded {
    inner: Box<dyn PageReader>,
    physical: Physical,
}

impl Padded {
    /// Wrap `inner`, the pages of a column of type `physical`.
    pub fn new(inner: Box<dyn PageReader>, physical: Physical) -> Self {
        Padded { inner, physical }
    }
}

impl Iterator for Padded {
    type Item = Result<Page>;

    fn next(&mut self) -> Option<Self::Item> {
        self.get_next_page().transpose()
    }
}

impl PageReader for Padded {
    fn get_next_page(&mut self) -> Result<Option<Page>> {
        Ok(self.inner.get_next_page()?.map(|p| pad(p, self.physical)))
    }

    fn peek_next_page(&mut self) -> Result<Option<PageMetadata>> {
        self.inner.peek_next_page()
    }

    fn skip_next_page(&mut self) -> Result<()> {
        self.inner.skip_next_page()
    }

    fn at_record_boundary(&mut self) -> Result<bool> {
        self.inner.at_record_boundary()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::pq_zstd::err;

    /// Pages from memory.
    struct VecPages(std::vec::IntoIter<Page>);

    impl Iterator for VecPages {
        type Item = Result<Page>;
        fn next(&mut self) -> Option<Self::Item> {
            self.0.next().map(Ok)
        }
    }

    impl PageReader for VecPages {
        fn get_next_page(&mut self) -> Result<Option<Page>> {
            Ok(self.0.next())
        }
        fn peek_next_page(&mut self) -> Result<Option<PageMetadata>> {
            Err(err("not needed"))
        }
        fn skip_next_page(&mut self) -> Result<()> {
            Err(err("not needed"))
        }
    }

    /// Read 3 values of a required BYTE_ARRAY column from `pages`.
    fn read3(pages: Box<dyn PageReader>) -> Result<usize> {
        use parquet::basic::Repetition;
        use parquet::column::reader::{ColumnReader, get_column_reader};
        use parquet::schema::types::{ColumnDescriptor, ColumnPath, Type};
        let tp = Type::primitive_type_builder("x", Physical::BYTE_ARRAY)
            .with_repetition(Repetition::REQUIRED)
            .build()
            .unwrap();
        let d = ColumnDescriptor::new(Arc::new(tp), 0, 0, ColumnPath::new(vec!["x".into()]));
        let ColumnReader::ByteArrayColumnReader(mut r) = get_column_reader(Arc::new(d), pages)
        else {
            unreachable!()
        };
        let mut values = Vec::new();
        r.read_records(3, None, None, &mut values)
            .map(|(n, _, _)| n)
    }

    #[test]
    fn byte_array_pages_claiming_more_values_than_they_hold_are_errors_not_panics() {
        // Two PLAIN entries ("a", "bc") where three are claimed.
        let two = Bytes::from_static(&[1, 0, 0, 0, b'a', 2, 0, 0, 0, b'b', b'c']);
        let data = |buf: Bytes, encoding| Page::DataPage {
            buf,
            num_values: 3,
            encoding,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        };
        let dict = Page::DictionaryPage {
            buf: two.clone(),
            num_values: 3,
            encoding: Encoding::PLAIN,
            is_sorted: false,
        };
        // Bit width 2, an RLE run of 3 x index 2.
        let indices = data(Bytes::from_static(&[2, 6, 2]), Encoding::RLE_DICTIONARY);
        for pages in [vec![dict, indices], vec![data(two, Encoding::PLAIN)]] {
            let bare = VecPages(pages.clone().into_iter());
            let crashed = std::panic::catch_unwind(|| read3(Box::new(bare)).is_err());
            assert!(crashed.is_err(), "the crate panics on the bare pages");
            let padded = Padded::new(Box::new(VecPages(pages.into_iter())), Physical::BYTE_ARRAY);
            let e = read3(Box::new(padded)).unwrap_err();
            assert!(e.to_string().contains("Not enough bytes"), "{e}");
        }
        // Real pages are untouched by the pad.
        let ok = data(
            Bytes::from_static(&[1, 0, 0, 0, b'a', 0, 0, 0, 0, 1, 0, 0, 0, b'z']),
            Encoding::PLAIN,
        );
        let padded = Padded::new(
            Box::new(VecPages(vec![ok].into_iter())),
            Physical::BYTE_ARRAY,
        );
        assert_eq!(read3(Box::new(padded)).unwrap(), 3);
    }
}
