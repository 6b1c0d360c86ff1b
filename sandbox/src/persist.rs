//! The data file: a JSON snapshot of the world and the issued OAuth tokens, rewritten
//! atomically (write a temporary file, flush it to disk, rename it over the old one) after
//! every change, and read back at start.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::oauth::OAuthState;
use crate::world::World;

const FORMAT_VERSION: u32 = 1;

#[derive(Debug)]
pub(crate) struct DataFile {
    path: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    world: World,
    oauth: OAuthState,
}

/// Why the data file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a sandbox data file: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path} has format {found}, this sandbox reads format {FORMAT_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl DataFile {
    pub(crate) fn new(path: PathBuf) -> DataFile {
        DataFile { path }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The saved state, or `None` when the file does not exist yet.
    pub(crate) fn load(&self) -> Result<Option<(World, OAuthState)>, DataFileError> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(DataFileError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let snapshot: Snapshot =
            serde_json::from_slice(&bytes).map_err(|source| DataFileError::Parse {
                path: self.path.clone(),
                source,
            })?;
        if snapshot.format != FORMAT_VERSION {
            return Err(DataFileError::Version {
                path: self.path.clone(),
                found: snapshot.format,
            });
        }
        Ok(Some((snapshot.world, snapshot.oauth)))
    }

    pub(crate) fn save(&self, world: &World, oauth: &OAuthState) -> Result<(), DataFileError> {
        let snapshot = Snapshot {
            format: FORMAT_VERSION,
            world: world.clone(),
            oauth: oauth.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&snapshot).expect("the world serialises");
        let write_error = |source| DataFileError::Write {
            path: self.path.clone(),
            source,
        };
        let mut tmp_name = self.path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(".tmp");
        let tmp = self.path.with_file_name(tmp_name);
        let mut file = fs::File::create(&tmp).map_err(write_error)?;
        file.write_all(&bytes).map_err(write_error)?;
        file.sync_all().map_err(write_error)?;
        drop(file);
        fs::rename(&tmp, &self.path).map_err(write_error)?;
        Ok(())
    }
}
