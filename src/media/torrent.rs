//! BitTorrent metainfo for a served file, as PeerTube publishes one per video file: a
//! single-file `.torrent` whose web seed (`url-list`, BEP 19) is the file's own HTTP URL, so any
//! WebTorrent or BitTorrent client can fetch it from this server and share it with peers, and the
//! matching magnet link. Encoded with serde_bencode; pieces hashed with ring's SHA-1 (what BEP 3
//! requires; it is not used for any security decision here).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::Serialize;

/// Pieces are a power of two near √(length × 1 KiB), between these sizes (what WebTorrent's
/// tools choose, so PeerTube peers see familiar torrents).
const MIN_PIECE: u64 = 16 * 1024;
const MAX_PIECE: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum TorrentError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("encoding: {0}")]
    Encode(String),
}

#[derive(Serialize)]
struct Info<'a> {
    length: u64,
    name: &'a str,
    #[serde(rename = "piece length")]
    piece_length: u64,
    #[serde(with = "serde_bytes")]
    pieces: Vec<u8>,
}

#[derive(Serialize)]
struct Metainfo<'a> {
    #[serde(rename = "created by")]
    created_by: &'a str,
    #[serde(rename = "creation date")]
    creation_date: i64,
    info: Info<'a>,
    #[serde(rename = "url-list")]
    url_list: Vec<&'a str>,
}

/// A made torrent: the `.torrent` bytes and the info hash (hex) that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Torrent {
    pub bytes: Vec<u8>,
    pub info_hash: String,
}

/// Piece length for a file of `len` bytes.
fn piece_length(len: u64) -> u64 {
    let kib = (len / 1024).max(1) as f64;
    let shift = (kib.log2() + 0.5).floor() as u32;
    1u64.checked_shl(shift)
        .unwrap_or(MAX_PIECE)
        .clamp(MIN_PIECE, MAX_PIECE)
}

/// Hash `file` into the metainfo of a torrent named `name`, web-seeded from `url`.
pub fn create(file: &Path, name: &str, url: &str) -> Result<Torrent, TorrentError> {
    let mut f = File::open(file)?;
    let length = f.metadata()?.len();
    let piece = piece_length(length);
    let mut pieces = Vec::with_capacity(((length / piece + 1) * 20) as usize);
    let mut buf = vec![0u8; piece as usize];
    loop {
        let filled = read_full(&mut f, &mut buf)?;
        if filled == 0 {
            break;
        }
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &buf[..filled]);
        pieces.extend_from_slice(digest.as_ref());
        if filled < buf.len() {
            break;
        }
    }
    let info = Info {
        length,
        name,
        piece_length: piece,
        pieces,
    };
    let info_bytes =
        serde_bencode::to_bytes(&info).map_err(|e| TorrentError::Encode(e.to_string()))?;
    let info_hash =
        hex(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &info_bytes).as_ref());
    let metainfo = Metainfo {
        created_by: concat!("Vireo ", env!("CARGO_PKG_VERSION")),
        creation_date: crate::model::now_ms() / 1000,
        info,
        url_list: vec![url],
    };
    let bytes =
        serde_bencode::to_bytes(&metainfo).map_err(|e| TorrentError::Encode(e.to_string()))?;
    Ok(Torrent { bytes, info_hash })
}

/// Read until `buf` is full or the file ends.
fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match f.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The magnet link PeerTube shows for a file: its info hash, name, `.torrent` URL (`xs`) and
/// web seed (`ws`).
pub fn magnet(info_hash: &str, name: &str, torrent_url: &str, file_url: &str) -> String {
    let q = |s: &str| percent_encode(s);
    format!(
        "magnet:?xs={}&xt=urn:btih:{info_hash}&dn={}&ws={}",
        q(torrent_url),
        q(name),
        q(file_url)
    )
}

/// URL query component encoding (RFC 3986 unreserved characters kept).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_file_and_hash_the_info_dictionary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.mp4");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let t = create(&path, "v.mp4", "http://127.0.0.1/v.mp4").unwrap();
        let value: serde_bencode::value::Value = serde_bencode::from_bytes(&t.bytes).unwrap();
        let serde_bencode::value::Value::Dict(top) = value else {
            panic!("not a dictionary")
        };
        let serde_bencode::value::Value::Dict(info) = &top[&b"info".to_vec()] else {
            panic!("no info")
        };
        let serde_bencode::value::Value::Bytes(pieces) = &info[&b"pieces".to_vec()] else {
            panic!("no pieces")
        };
        // 100 000 bytes in 16 KiB pieces: 7 pieces, the last one short.
        assert_eq!(pieces.len(), 7 * 20);
        let last =
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &data[6 * 16384..]);
        assert_eq!(&pieces[6 * 20..], last.as_ref());
        // The info hash is the SHA-1 of the info dictionary exactly as encoded in the file.
        let info_bytes = serde_bencode::to_bytes(&top[&b"info".to_vec()]).unwrap();
        let expected =
            hex(
                ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &info_bytes).as_ref(),
            );
        assert_eq!(t.info_hash, expected);
        assert!(magnet(&t.info_hash, "a b", "http://h/t", "http://h/f").contains("dn=a%20b"));
    }

    #[test]
    fn piece_lengths_are_bounded_powers_of_two() {
        assert_eq!(piece_length(0), MIN_PIECE);
        assert_eq!(piece_length(100_000_000), 128 * 1024);
        assert_eq!(piece_length(1 << 30), 1 << 20);
        assert_eq!(piece_length(1 << 40), MAX_PIECE);
    }
}
