//! A video's thumbnail and preview files: made from the video by the pipeline, or from an image
//! the owner uploads. Files live in `media/<uuid>/images/{thumbnails,previews}/` and are named
//! `<video uuid>-<32 random hex digits>.jpg`, new for every image: a replaced image has a new
//! URL, so caches may keep each one forever, and no name can be guessed (a private video's
//! images are also checked like its other files). A replaced file is removed once the new name
//! is committed.

use std::path::PathBuf;

use super::media_files::VideoDirs;
use super::{Core, Result, ServiceError, videos};
use crate::media::thumbnail::{self, Images};
use crate::model::video::Video;
use crate::store::{records, tables};

/// The sizes of the two images (PeerTube's), as peers are told them.
pub const THUMBNAIL_SIZE: (u32, u32) = thumbnail::THUMBNAIL;
pub const PREVIEW_SIZE: (u32, u32) = thumbnail::PREVIEW;

/// Largest image file accepted from an uploader (PeerTube's limit too).
pub const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;

/// Which of a video's two images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Thumbnail,
    Preview,
}

impl Kind {
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Thumbnail => "thumbnails",
            Kind::Preview => "previews",
        }
    }
    fn slot(self, video: &mut Video) -> &mut Option<String> {
        match self {
            Kind::Thumbnail => &mut video.thumbnail,
            Kind::Preview => &mut video.preview,
        }
    }
    fn pick(self, images: &Images) -> &[u8] {
        match self {
            Kind::Thumbnail => &images.thumbnail,
            Kind::Preview => &images.preview,
        }
    }
}

/// The file of a video's image.
pub fn path(dirs: &VideoDirs, kind: Kind, name: &str) -> PathBuf {
    dirs.images().join(kind.folder()).join(name)
}

/// Write one image under a fresh name; returns the name.
fn write(dirs: &VideoDirs, uuid: &uuid::Uuid, kind: Kind, jpeg: &[u8]) -> std::io::Result<String> {
    let dir = dirs.images().join(kind.folder());
    std::fs::create_dir_all(&dir)?;
    let name = super::media_files::names::image(uuid, &random_part()?);
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, jpeg)?;
    std::fs::rename(&tmp, dir.join(&name))?;
    Ok(name)
}

/// The random part of an image's name.
pub fn random_part() -> std::io::Result<String> {
    crate::auth::secret::random_hex::<16>().map_err(std::io::Error::other)
}

/// Store `made` for the kinds given, in one transaction. With `only_if_missing` (the pipeline's
/// images), an image the owner uploaded meanwhile is kept. Files that end up unused are removed.
pub fn store(
    core: &Core,
    video_id: u64,
    made: &Images,
    kinds: &[Kind],
    only_if_missing: bool,
) -> Result<()> {
    let uuid = {
        let tx = core.store.read()?;
        videos::get(&tx, video_id)?
            .ok_or(ServiceError::NotFound("Video"))?
            .uuid
    };
    let dirs = VideoDirs::of(core, &uuid);
    let mut written = Vec::new();
    for &kind in kinds {
        let name = write(&dirs, &uuid, kind, kind.pick(made))
            .map_err(|e| ServiceError::internal("writing an image", e))?;
        written.push((kind, name));
    }
    let outcome = core
        .store
        .write(|tx| -> Result<Option<Vec<(Kind, String)>>> {
            let Some(mut video) = videos::get(tx, video_id)? else {
                return Ok(None);
            };
            let mut unused = Vec::new();
            for (kind, name) in &written {
                let slot = kind.slot(&mut video);
                if only_if_missing && slot.is_some() {
                    unused.push((*kind, name.clone()));
                    continue;
                }
                if let Some(old) = slot.replace(name.clone()) {
                    unused.push((*kind, old));
                }
            }
            records::put(tx, tables::VIDEOS, video_id, &video)?;
            Ok(Some(unused))
        });
    let unused = match outcome {
        Ok(Some(unused)) => unused,
        Ok(None) => written, // the video is gone: nothing of ours stays
        Err(e) => {
            for (kind, name) in &written {
                let _ = std::fs::remove_file(path(&dirs, *kind, name));
            }
            return Err(e);
        }
    };
    for (kind, name) in unused {
        let _ = std::fs::remove_file(path(&dirs, kind, &name));
    }
    Ok(())
}

/// Replace a video's image with one the owner uploaded (JPEG, PNG), resized like PeerTube's.
/// CPU-bound: call it off the async runtime.
pub fn replace_from_upload(core: &Core, video_id: u64, kind: Kind, bytes: &[u8]) -> Result<()> {
    let made = from_uploaded(kind, bytes)?;
    store(core, video_id, &made, &[kind], false)
}

/// Make a remote video's thumbnail and preview from its origin's image, fetched by the
/// federation edge: served from here as the local ones are, so no viewer's browser asks the
/// origin for them. CPU-bound: call it off the async runtime.
pub fn from_remote(core: &Core, video_id: u64, bytes: &[u8]) -> Result<()> {
    let made = from_uploaded(Kind::Preview, bytes)?;
    store(
        core,
        video_id,
        &made,
        &[Kind::Thumbnail, Kind::Preview],
        false,
    )
}

/// An uploaded image (JPEG, PNG) made into JPEGs at PeerTube's sizes; too large or unreadable
/// is the form field's error.
fn from_uploaded(kind: Kind, bytes: &[u8]) -> Result<Images> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ServiceError::invalid(
            field_name(kind),
            format!("The image must be at most {} MB", MAX_IMAGE_BYTES >> 20),
        ));
    }
    thumbnail::from_image(bytes).map_err(|e| ServiceError::invalid(field_name(kind), e.to_string()))
}

/// The images among a form's files (`thumbnailfile`, `previewfile`; other fields are not
/// images), made into JPEGs at PeerTube's sizes. A file that is not a readable image refuses
/// the whole form before anything changes. CPU-bound: call it off the async runtime.
pub fn from_form_files<B: AsRef<[u8]>>(files: &[(String, B)]) -> Result<Vec<(Kind, Images)>> {
    let mut out = Vec::new();
    for (name, bytes) in files {
        let Some(kind) = [Kind::Thumbnail, Kind::Preview]
            .into_iter()
            .find(|k| field_name(*k) == name)
        else {
            continue;
        };
        out.push((kind, from_uploaded(kind, bytes.as_ref())?));
    }
    Ok(out)
}

/// The form field an image comes in.
pub fn field_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Thumbnail => "thumbnailfile",
        Kind::Preview => "previewfile",
    }
}
