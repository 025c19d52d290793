//! Where flows and locales come from: built into the binary (the default, so that `kabar`
//! copied to a laptop or run by systemd from any folder has its texts), or a folder named in
//! `[content]` (a field office editing its own texts, and development).

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

static EMBEDDED_FLOWS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/flows");
static EMBEDDED_LOCALES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/locales");

/// A folder of content files, on disk or built in.
#[derive(Debug, Clone)]
pub enum ContentDir {
    Folder(PathBuf),
    /// Built into the binary; `name` is shown in messages (`<built-in>/locales`).
    Embedded {
        dir: &'static Dir<'static>,
        name: &'static str,
    },
}

impl ContentDir {
    /// The flows: `folder` when set, else those built in.
    pub fn flows(folder: Option<&Path>) -> ContentDir {
        match folder {
            Some(p) => ContentDir::Folder(p.to_path_buf()),
            None => ContentDir::Embedded {
                dir: &EMBEDDED_FLOWS,
                name: "<built-in>/flows",
            },
        }
    }

    /// The locales: `folder` when set, else those built in.
    pub fn locales(folder: Option<&Path>) -> ContentDir {
        match folder {
            Some(p) => ContentDir::Folder(p.to_path_buf()),
            None => ContentDir::Embedded {
                dir: &EMBEDDED_LOCALES,
                name: "<built-in>/locales",
            },
        }
    }

    /// How a file is named in messages: its real path, or under `<built-in>/`.
    pub fn path_of(&self, relative: &Path) -> PathBuf {
        match self {
            ContentDir::Folder(p) => p.join(relative),
            ContentDir::Embedded { name, .. } => Path::new(name).join(relative),
        }
    }

    /// The files directly in `sub` ("" for the top) ending in `.ext`, sorted, as paths
    /// relative to this folder; `Err` when `sub` is not there.
    pub fn files(&self, sub: &Path, ext: &str) -> std::io::Result<Vec<PathBuf>> {
        let mut out: Vec<PathBuf> = match self {
            ContentDir::Folder(p) => std::fs::read_dir(p.join(sub))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .filter_map(|p| p.file_name().map(|n| sub.join(n)))
                .collect(),
            ContentDir::Embedded { dir, .. } => {
                let folder = if sub.as_os_str().is_empty() {
                    Some(*dir)
                } else {
                    dir.get_dir(sub)
                };
                folder
                    .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?
                    .files()
                    .map(|f| f.path().to_path_buf())
                    .collect()
            }
        };
        out.retain(|p| p.extension().is_some_and(|x| x == ext));
        out.sort();
        Ok(out)
    }

    /// One file's text.
    pub fn read(&self, relative: &Path) -> std::io::Result<String> {
        match self {
            ContentDir::Folder(p) => std::fs::read_to_string(p.join(relative)),
            ContentDir::Embedded { dir, .. } => dir
                .get_file(relative)
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?
                .contents_utf8()
                .map(str::to_string)
                .ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text")
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_content_is_the_checkout_s() {
        let built_in = ContentDir::locales(None);
        let folder =
            ContentDir::locales(Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join("locales")));
        let sub = Path::new("fa-AF");
        let files = built_in.files(sub, "ftl").unwrap();
        assert!(!files.is_empty());
        assert_eq!(files, folder.files(sub, "ftl").unwrap());
        for f in &files {
            assert_eq!(built_in.read(f).unwrap(), folder.read(f).unwrap(), "{f:?}");
        }
        let flows = ContentDir::flows(None)
            .files(Path::new(""), "toml")
            .unwrap();
        assert!(
            flows.iter().any(|f| f == Path::new("payments.toml")),
            "{flows:?}"
        );
        assert!(built_in.files(Path::new("xx"), "ftl").is_err());
    }
}
