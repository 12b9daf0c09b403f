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

/// The master playlist listing renditions (`(rendition, media playlist uri)`).
pub fn master(renditions: &[(&Rendition, String)]) -> Vec<u8> {
    use m3u8_rs::{MasterPlaylist, Resolution, VariantStream};
    let variants = renditions
        .iter()
        .map(|(r, uri)| VariantStream {
            uri: uri.clone(),
            bandwidth: r.peak_bandwidth,
            average_bandwidth: Some(r.average_bandwidth),
            codecs: Some(r.codecs.clone()),
            resolution: Some(Resolution {
                width: u64::from(r.width),
                height: u64::from(r.height),
            }),
            frame_rate: Some((r.fps * 1000.0).round() / 1000.0),
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
