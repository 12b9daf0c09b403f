//! Remux an H.264 MP4 into HLS (fragmented MP4 + playlists) in a directory:
//! `cargo run --example remux -- INPUT.mp4 OUTDIR`. For trying the remux stage by hand.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (input, out) = (
        std::path::Path::new(&args[1]),
        std::path::Path::new(&args[2]),
    );
    std::fs::create_dir_all(out).unwrap();
    let r = vireo::media::remux::fragmented::remux_mp4(input, &out.join("video-fragmented.mp4"))
        .unwrap();
    std::fs::write(
        out.join("video.m3u8"),
        vireo::media::remux::playlist::media(&r, "video-fragmented.mp4"),
    )
    .unwrap();
    std::fs::write(
        out.join("master.m3u8"),
        vireo::media::remux::playlist::master(&[vireo::media::remux::playlist::Variant::of(
            &r,
            "video.m3u8".into(),
        )]),
    )
    .unwrap();
    println!("{r:#?}");
}
