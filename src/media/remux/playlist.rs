//! HLS playlists as PeerTube writes them: a media playlist per rendition addressing its
//! fragmented MP4 by byte range, and a master playlist with `CODECS`, `RESOLUTION`,
//! `BANDWIDTH` and `FRAME-RATE`. Written with m3u8-rs.

use super::Rendition;

/// The media playlist of one rendition, addressing its fragments by byte range.
pub fn media(r: &Rendition, file_uri: &str) -> Vec<u8> {
    use m3u8_rs::{ByteRange, Map, MediaPlaylist, MediaPlaylistType, MediaSegment};
    let map = Map {
        uri: file_uri.to_owned(),
        byte_range: Some(ByteRange {
            length: r.init_length,
            offset: Some(0),
        }),
        ..Map::default()
    };
    let segments = r
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| MediaSegment {
            uri: file_uri.to_owned(),
            duration: s.duration_secs as f32,
            byte_range: Some(ByteRange {
                length: s.length,
                offset: Some(s.offset),
            }),
            map: (i == 0).then(|| map.clone()),
            ..MediaSegment::default()
        })
        .collect();
    let playlist = MediaPlaylist {
        version: Some(7),
        target_duration: r
            .segments
            .iter()
            .map(|s| s.duration_secs.ceil() as u64)
            .max()
            .unwrap_or(1),
        media_sequence: 0,
        segments,
        end_list: true,
        playlist_type: Some(MediaPlaylistType::Vod),
        independent_segments: true,
        ..MediaPlaylist::default()
    };
    let mut out = Vec::new();
    let _ = playlist.write_to(&mut out);
    out
}

/// One line of the master playlist: a rendition and the URI of its media playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub uri: String,
    pub codecs: String,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub peak_bandwidth: u64,
    pub average_bandwidth: u64,
}

impl Variant {
    pub fn of(r: &Rendition, uri: String) -> Variant {
        Variant {
            uri,
            codecs: r.codecs.clone(),
            width: r.width,
            height: r.height,
            fps: r.fps,
            peak_bandwidth: r.peak_bandwidth,
            average_bandwidth: r.average_bandwidth,
        }
    }
}

/// The master playlist listing `variants` in the order given (players start with the first
/// they can decode).
pub fn master(variants: &[Variant]) -> Vec<u8> {
    use m3u8_rs::{MasterPlaylist, Resolution, VariantStream};
    let variants = variants
        .iter()
        .map(|v| VariantStream {
            uri: v.uri.clone(),
            bandwidth: v.peak_bandwidth,
            average_bandwidth: Some(v.average_bandwidth),
            codecs: Some(v.codecs.clone()),
            resolution: Some(Resolution {
                width: u64::from(v.width),
                height: u64::from(v.height),
            }),
            frame_rate: Some((v.fps * 1000.0).round() / 1000.0),
            ..VariantStream::default()
        })
        .collect();
    let playlist = MasterPlaylist {
        version: Some(7),
        variants,
        independent_segments: true,
        ..MasterPlaylist::default()
    };
    let mut out = Vec::new();
    let _ = playlist.write_to(&mut out);
    out
}
