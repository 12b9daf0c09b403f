//! Where a video's files are and what they are called: its folders under
//! `<data dir>/media/<uuid>/`, the names of its renditions, images, torrents and playlists,
//! the public URLs they are served at (built here only), and how a file is written (through a
//! temporary name and a rename, so a crash never leaves a half-written file under a served
//! name). Every step that makes or serves a file takes its names from here.

use std::path::{Path, PathBuf};

use super::Core;
use crate::media::{remux, torrent};
use crate::model::video::{HlsRendition, TorrentFile, Video, VideoMedia, VideoSource, WebVideo};

/// How long removing a deleted video's files waits for its running job to stop (it stops
/// between two samples, so this is only reached when something is stuck; then it is retried).
const REMOVE_WAITS: std::time::Duration = std::time::Duration::from_secs(30);

/// Remove every file of a deleted video, once no job writes them any more.
pub fn remove_video_files(core: &Core, uuid: &uuid::Uuid) -> Result<(), String> {
    core.work.cancel(uuid);
    if !core.work.wait_idle(uuid, REMOVE_WAITS) {
        return Err("the video's job is still running".into());
    }
    let dir = media_dir(&core.config().storage.data_dir).join(uuid.to_string());
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {}: {e}", dir.display())),
    }
}

/// Where every video's files live: `<data dir>/media/`.
pub fn media_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("media")
}

/// The folders of one video's files under `<data dir>/media/<uuid>/`.
pub struct VideoDirs {
    pub root: PathBuf,
}

impl VideoDirs {
    pub fn of(core: &Core, uuid: &uuid::Uuid) -> VideoDirs {
        VideoDirs {
            root: media_dir(&core.config().storage.data_dir).join(uuid.to_string()),
        }
    }
    pub fn hls(&self) -> PathBuf {
        self.root.join("hls")
    }
    pub fn web_videos(&self) -> PathBuf {
        self.root.join("web-videos")
    }
    pub fn torrents(&self) -> PathBuf {
        self.root.join("torrents")
    }
    pub fn images(&self) -> PathBuf {
        self.root.join("images")
    }
}

/// The names of a video's files. Each starts with the video's UUID and a `-`, which is how the
/// file routes find the video a file belongs to.
pub mod names {
    use uuid::Uuid;

    use crate::model::video::VideoSource;

    /// A rendition's fragmented MP4 (HLS media). `codec` is set for the encoded rungs: the
    /// remuxed upload may have the same height.
    pub fn fragmented(uuid: &Uuid, height: u32, codec: Option<&str>) -> String {
        format!("{}-fragmented.mp4", stem(uuid, height, codec))
    }

    /// A rendition's HLS media playlist.
    pub fn media_playlist(uuid: &Uuid, height: u32, codec: Option<&str>) -> String {
        format!("{}.m3u8", stem(uuid, height, codec))
    }

    /// A progressive MP4 (a web video).
    pub fn progressive(uuid: &Uuid, height: u32, codec: Option<&str>) -> String {
        format!("{}.mp4", stem(uuid, height, codec))
    }

    fn stem(uuid: &Uuid, height: u32, codec: Option<&str>) -> String {
        match codec {
            Some(c) => format!("{uuid}-{height}-{c}"),
            None => format!("{uuid}-{height}"),
        }
    }

    /// The public name of the original upload, served as the web video until the progressive
    /// MP4 is made (PeerTube's clients expect a file at once): `<uuid>-<height>.<ext>`.
    pub fn original(uuid: &Uuid, source: &VideoSource) -> String {
        let ext = source.file.rsplit('.').next().unwrap_or("mp4");
        format!("{uuid}-{}.{ext}", source.info.video.height)
    }

    /// A thumbnail or preview; `random` changes with every image.
    pub fn image(uuid: &Uuid, random: &str) -> String {
        format!("{uuid}-{random}.jpg")
    }

    /// A storyboard's sprite sheet; `random` changes with every storyboard.
    pub fn storyboard(uuid: &Uuid, random: &str) -> String {
        format!("{uuid}-{random}-storyboard.jpg")
    }

    /// A rendition's torrent; `suffix` tells apart the files of one height.
    pub fn torrent(uuid: &Uuid, height: u32, suffix: &str) -> String {
        format!("{uuid}-{height}{suffix}.torrent")
    }
}

/// A progressive file as it is served: the made MP4, or the original upload until it is.
#[derive(Debug, Clone)]
pub struct WebFile<'a> {
    /// Its public name (`urls::web_video` gives its address).
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub size: u64,
    pub has_audio: bool,
    pub torrent: Option<&'a TorrentFile>,
    /// The original upload, served as it was sent (before the progressive files are made).
    pub original: bool,
    /// The RFC 6381 codecs of a ladder rung's file; empty for the upload and its remux.
    pub codecs: &'a str,
}

/// A video's progressive files as served, largest first. Until they are made, the original
/// upload, as PeerTube lists it while it transcodes (its clients and players expect a file at
/// once).
pub fn web_files<'a>(
    video: &Video,
    media: &'a VideoMedia,
    source: Option<&VideoSource>,
) -> Vec<WebFile<'a>> {
    if let (true, Some(source)) = (media.web_videos.is_empty(), source) {
        let info = &source.info;
        return vec![WebFile {
            name: names::original(&video.uuid, source),
            width: info.video.width,
            height: info.video.height,
            fps: info.video.fps.unwrap_or(0.0),
            size: source.size,
            has_audio: info.audio.is_some(),
            torrent: None,
            original: true,
            codecs: "",
        }];
    }
    let mut files: Vec<&WebVideo> = media.web_videos.iter().collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.height));
    files
        .into_iter()
        .map(|f| WebFile {
            name: f.file.clone(),
            width: f.width,
            height: f.height,
            fps: f.fps,
            size: f.size,
            has_audio: f.has_audio,
            torrent: f.torrent.as_ref(),
            original: false,
            codecs: &f.codecs,
        })
        .collect()
}

/// The magnet link of a rendition's torrent: its info hash, a display name (the title and
/// height, as PeerTube names it), the `.torrent` and the file to web-seed from.
pub fn magnet(
    torrent: &TorrentFile,
    title: &str,
    height: u32,
    torrent_url: &str,
    file_url: &str,
) -> String {
    let name = format!("{title} {height}p.mp4");
    torrent::magnet(&torrent.info_hash, &name, torrent_url, file_url)
}

/// The file on disk a web-video name is served from: the progressive MP4 once made, before
/// that the original upload under `names::original`. `None`: no such file.
pub fn web_video_file(
    dirs: &VideoDirs,
    video: &Video,
    source: Option<&VideoSource>,
    name: &str,
) -> Option<PathBuf> {
    let made = dirs.web_videos().join(name);
    if made.exists() {
        return Some(made);
    }
    source
        .filter(|s| names::original(&video.uuid, s) == name)
        .map(|s| dirs.root.join(&s.file))
}

/// The HLS directory of a video.
pub fn hls_dir(core: &Core, video: &Video) -> PathBuf {
    VideoDirs::of(core, &video.uuid).hls()
}

/// Write `bytes` to `dir/name` through a temporary file and a rename.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(name))?;
    Ok(())
}

/// Write `master.m3u8` listing `renditions`: the AV1 ones first, smallest to largest (players
/// that decode AV1 start there), then the H.264 ones (the upload remuxed as it is, or the
/// compatibility rendition of an upload that is not H.264), which every player decodes.
pub fn write_master(
    dirs: &VideoDirs,
    video: &Video,
    renditions: &[HlsRendition],
) -> std::io::Result<()> {
    let mut ordered: Vec<&HlsRendition> = renditions.iter().collect();
    ordered.sort_by_key(|r| (!r.codecs.starts_with("av01"), r.height));
    let duration = video.duration.max(1) as f64;
    let variants: Vec<remux::playlist::Variant> = ordered
        .into_iter()
        .map(|r| {
            // Records from before bandwidths were kept: estimated from the size.
            let estimate = (r.size as f64 * 8.0 / duration) as u64;
            let average = Some(r.average_bandwidth)
                .filter(|b| *b > 0)
                .unwrap_or(estimate);
            remux::playlist::Variant {
                uri: r.playlist.clone(),
                codecs: r.codecs.clone(),
                width: r.width,
                height: r.height,
                fps: r.fps,
                peak_bandwidth: Some(r.peak_bandwidth).filter(|b| *b > 0).unwrap_or(average),
                average_bandwidth: average,
            }
        })
        .collect();
    write_atomic(
        &dirs.hls(),
        "master.m3u8",
        &remux::playlist::master(&variants),
    )
}

/// Hash `file` into `torrents/<uuid>-<height><suffix>.torrent`, web-seeded from `url`. Its
/// name is the video's title and resolution, as PeerTube names them.
pub fn make_torrent(
    dirs: &VideoDirs,
    file: &Path,
    video: &Video,
    height: u32,
    suffix: &str,
    url: &str,
) -> std::io::Result<TorrentFile> {
    let title: String = video
        .name
        .chars()
        .map(|c| if "/\\?%*:|\"<>".contains(c) { '-' } else { c })
        .collect();
    let name = format!("{title} {height}p.mp4");
    let made =
        torrent::create(file, &name, url).map_err(|e| std::io::Error::other(e.to_string()))?;
    let uuid = video.uuid;
    let dir = dirs.torrents();
    std::fs::create_dir_all(&dir)?;
    let torrent_name = names::torrent(&uuid, height, suffix);
    write_atomic(&dir, &torrent_name, &made.bytes)?;
    Ok(TorrentFile {
        file: torrent_name,
        info_hash: made.info_hash,
    })
}
