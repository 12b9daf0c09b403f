//! The fuzz targets' entry point (`fuzz/fuzz_targets/remux.rs`) and its corpus replay: every
//! stage that reads an upload, run on arbitrary bytes. Kept apart so that the stages need not
//! know one another for the fuzzer's sake.

/// Run every stage of the media path on `data` taken as an upload (MP4, then Matroska), and
/// the decoders behind thumbnails and transcoding, and discard the results: what the fuzz target and its corpus replay exercise. Files go to a
/// per-process scratch directory under the system temp dir.
pub fn exercise(data: &[u8]) {
    let dir = std::env::temp_dir().join(format!("vireo-remux-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let input = dir.join("input");
    if std::fs::write(&input, data).is_err() {
        return;
    }
    let sources = [
        crate::media::source::Source::open(&input),
        crate::media::source::matroska::open(&input, &dir.join("demuxed")),
    ];
    for source in sources.into_iter().flatten() {
        // Audio the writers cannot copy is decoded and re-encoded first, as the pipeline does.
        let Ok(mut source) = crate::media::audio::to_opus(source, &dir.join("with-opus")) else {
            continue;
        };
        let _ = crate::media::remux::fragmented::write(&mut source, &dir.join("hls.mp4"));
        let _ = crate::media::remux::progressive::write(&mut source, &dir.join("web.mp4"));
        let _ = crate::media::thumbnail::from_video(&mut source, 0);
        // The transcoder's decode, concealment included, picture by picture.
        if let Ok(mut frames) = crate::media::transcode::frames::Frames::new(&mut source) {
            while let Ok(Some(_)) = frames.next_frame() {}
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every input in the fuzzer's regression corpus runs through the whole path without a panic.
    #[test]
    fn fuzz_corpus_replays() {
        // The corpus's AV1 inputs are decoded too (this executable cannot be the decoder's child).
        crate::media::decode::av1::decode_in_process();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/remux");
        let mut replayed = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            super::exercise(&std::fs::read(entry.unwrap().path()).unwrap());
            replayed += 1;
        }
        assert!(replayed >= 3, "the corpus is there");
    }
}
