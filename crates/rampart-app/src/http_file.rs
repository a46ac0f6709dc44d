//! The file an HTTP message carries, as Suricata names it: rules with
//! `file.name`, `filename` and `fileext` inspect the names of files, and
//! in HTTP every response body (and every PUT body) is one.

use std::borrow::Cow;

use crate::http::{Direction, HttpTransaction};

/// Longest file name kept (Suricata's `SC_FILENAME_MAX`).
pub const MAX_FILE_NAME: usize = 1024;

/// The name of the file in one side of `tx`, if that side carries one:
/// the `filename=` of a response's Content-Disposition, else the request
/// URI's path (normalised, without the query). Requests carry a file
/// only as a PUT body. A message without body bytes carries no file.
pub fn file_name(tx: &HttpTransaction, dir: Direction) -> Option<Cow<'_, [u8]>> {
    if tx.body_len(dir) == 0 {
        return None;
    }
    let name = match dir {
        Direction::ToClient => tx
            .header_value(Direction::ToClient, "content-disposition")
            .and_then(|v| disposition_filename(&v).map(|n| Cow::Owned(n.to_vec())))
            .or_else(|| uri_path(tx).map(Cow::Borrowed)),
        Direction::ToServer if tx.method().eq_ignore_ascii_case(b"PUT") => {
            uri_path(tx).map(Cow::Borrowed)
        }
        Direction::ToServer => None,
    }?;
    Some(match name {
        Cow::Borrowed(b) => Cow::Borrowed(b.get(..MAX_FILE_NAME).unwrap_or(b)),
        Cow::Owned(mut v) => {
            v.truncate(MAX_FILE_NAME);
            Cow::Owned(v)
        }
    })
}

/// libmagic's description of the file in one side of `tx` (see
/// [`crate::file_magic`]), from the first bytes of its body.
pub fn file_magic(tx: &HttpTransaction, dir: Direction) -> Option<Cow<'static, [u8]>> {
    file_name(tx, dir)?;
    let body = match dir {
        Direction::ToClient => tx.response_body(),
        Direction::ToServer => tx.request_body(),
    };
    let head = body.get(..crate::file_magic::MAGIC_HEAD).unwrap_or(body);
    crate::file_magic::describe(head).map(|m| Cow::Owned(m.into_bytes()))
}

/// The normalised URI up to its query.
fn uri_path(tx: &HttpTransaction) -> Option<&[u8]> {
    let uri = tx.uri();
    let path = match memchr::memchr(b'?', uri) {
        Some(i) => uri.get(..i).unwrap_or(uri),
        None => uri,
    };
    (!path.is_empty()).then_some(path)
}

/// The value of `filename=` in a Content-Disposition value, unquoted,
/// up to the next `;`.
fn disposition_filename(v: &[u8]) -> Option<&[u8]> {
    let at = memchr::memmem::find(v, b"filename=")?;
    let rest = v.get(at + 9..)?;
    let end = memchr::memchr(b';', rest).unwrap_or(rest.len());
    let name = rest.get(..end)?.trim_ascii();
    let name = name
        .strip_prefix(b"\"")
        .and_then(|n| n.strip_suffix(b"\""))
        .unwrap_or(name);
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::http::{HttpConfig, HttpParser};

    fn tx(request: &[u8], response: &[u8]) -> HttpTransaction {
        let mut p = HttpParser::new(HttpConfig::default());
        let mut ev = Vec::new();
        p.feed(Direction::ToServer, request, &mut ev);
        p.feed(Direction::ToClient, response, &mut ev);
        p.finish(Direction::ToServer, &mut ev);
        p.finish(Direction::ToClient, &mut ev);
        let t = p.transactions().next().cloned();
        t.or_else(|| p.take_evicted().into_iter().next())
            .or_else(|| p.remove_completed().into_iter().next())
            .unwrap()
    }

    #[test]
    fn response_file_is_named_by_path_or_disposition() {
        let t = tx(
            b"GET /~regit/./r.pdf?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nPDF",
        );
        assert_eq!(
            file_name(&t, Direction::ToClient).unwrap().as_ref(),
            b"/~regit/r.pdf"
        );
        assert_eq!(file_name(&t, Direction::ToServer), None);
        let t = tx(
            b"GET /dl?id=7 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename=\"report 1.pdf\"; size=3\r\nContent-Length: 3\r\n\r\nPDF",
        );
        assert_eq!(
            file_name(&t, Direction::ToClient).unwrap().as_ref(),
            b"report 1.pdf"
        );
    }

    #[test]
    fn no_body_no_file_and_put_uploads() {
        let t = tx(
            b"GET /a.mp4 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"HTTP/1.1 304 Not Modified\r\n\r\n",
        );
        assert_eq!(file_name(&t, Direction::ToClient), None);
        let t = tx(
            b"PUT /up/x.bin HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi",
            b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(
            file_name(&t, Direction::ToServer).unwrap().as_ref(),
            b"/up/x.bin"
        );
        assert_eq!(file_name(&t, Direction::ToClient), None);
    }
}
