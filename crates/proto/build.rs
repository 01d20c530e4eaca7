//! Compiles every `.proto` under `proto/bank` (and the vendored google/rpc
//! contracts the gateway renders in error bodies) once for the whole
//! workspace: messages, tonic clients and servers, and one encoded
//! `FileDescriptorSet` for reflection and transcoding.

use std::path::{Path, PathBuf};

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    // Sorted so the generated code and descriptor set are reproducible.
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto").canonicalize()?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut protos = Vec::new();
    collect_protos(&proto_root.join("bank"), &mut protos)?;
    collect_protos(&proto_root.join("google/rpc"), &mut protos)?;
    println!("cargo:rerun-if-changed={}", proto_root.display());
    for p in &protos {
        println!("cargo:rerun-if-changed={}", p.display());
    }

    // A vendored protoc: builds on a fresh machine need no system package.
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let wkt = protoc_bin_vendored::include_path()?;

    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .file_descriptor_set_path(out_dir.join("bank_descriptor.bin"))
        .include_file("bank_protos.rs")
        .compile_with_config(config, &protos, &[proto_root, wkt])?;
    Ok(())
}
