//! Mapping sources and where each value sits in them, for diagnostics that name file and line.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use saphyr_parser::{Event, Parser};

/// One file of mappings or schemas, read into memory.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path shown in diagnostics.
    pub path: PathBuf,
    /// The path below its root (`mappings/` or `schemas/`), `/`-separated:
    /// `acme/ats/candidates.yaml`, `ats/candidates.json`.
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// Line and column (both 1-based) of every key and sequence item of a YAML document, by JSON
/// pointer (`/methods/create/body/emial`).
#[derive(Debug, Default)]
pub(crate) struct PositionIndex {
    positions: HashMap<String, (usize, usize)>,
    /// Keys that appear twice in one mapping: pointer and position of the second.
    pub(crate) duplicates: Vec<(String, (usize, usize))>,
}

enum Frame {
    Map {
        pointer: String,
        key: Option<String>,
        seen: HashSet<String>,
    },
    Seq {
        pointer: String,
        index: usize,
    },
}

impl SourceFile {
    /// Reads every file below `root` whose name ends with one of `extensions`, sorted by name.
    pub fn read_dir(root: &Path, extensions: &[&str]) -> std::io::Result<Vec<SourceFile>> {
        let mut found = Vec::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
            for entry in entries {
                let path = entry?.path();
                if path.is_dir() {
                    pending.push(path);
                } else if extensions
                    .iter()
                    .any(|ext| path.extension().is_some_and(|e| e == *ext))
                {
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
                    })?;
                    let name = path
                        .strip_prefix(root)
                        .unwrap_or(&path)
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/");
                    found.push(SourceFile { path, name, text });
                }
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }
}

impl PositionIndex {
    /// Indexes `text`; a document that does not parse gives an empty index (the YAML loader
    /// reports the syntax error itself).
    pub(crate) fn build(text: &str) -> PositionIndex {
        let mut index = PositionIndex::default();
        let mut stack: Vec<Frame> = Vec::new();
        for event in Parser::new_from_str(text) {
            let Ok((event, span)) = event else { break };
            let at = (span.start.line(), span.start.col() + 1);
            match event {
                Event::Scalar(value, ..) => {
                    if let Some(Frame::Map { pointer, key, seen }) = stack.last_mut()
                        && key.is_none()
                    {
                        let child = format!("{pointer}/{}", escape(&value));
                        if !seen.insert(value.to_string()) {
                            index.duplicates.push((child.clone(), at));
                        }
                        index.positions.entry(child).or_insert(at);
                        *key = Some(value.into_owned());
                        continue;
                    }
                    index.value_at(&mut stack, at);
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let pointer = index.value_at(&mut stack, at);
                    stack.push(if matches!(event, Event::MappingStart(..)) {
                        Frame::Map {
                            pointer,
                            key: None,
                            seen: HashSet::new(),
                        }
                    } else {
                        Frame::Seq { pointer, index: 0 }
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                Event::Alias(_) => {
                    index.value_at(&mut stack, at);
                }
                _ => {}
            }
        }
        index
    }

    /// Records a value starting at `at` in the current container, returns its pointer, and
    /// moves the container on to its next key or item.
    fn value_at(&mut self, stack: &mut [Frame], at: (usize, usize)) -> String {
        match stack.last_mut() {
            Some(Frame::Map { pointer, key, .. }) => {
                let child = format!("{pointer}/{}", escape(key.as_deref().unwrap_or_default()));
                *key = None;
                self.positions.entry(child.clone()).or_insert(at);
                child
            }
            Some(Frame::Seq { pointer, index }) => {
                let child = format!("{pointer}/{index}");
                *index += 1;
                self.positions.insert(child.clone(), at);
                child
            }
            None => String::new(),
        }
    }

    /// Where `pointer` is, or its nearest indexed ancestor, or line 1.
    pub(crate) fn locate(&self, pointer: &str) -> (usize, usize) {
        let mut current = pointer;
        loop {
            if let Some(at) = self.positions.get(current) {
                return *at;
            }
            match current.rfind('/') {
                Some(i) => current = &current[..i],
                None => return (1, 1),
            }
        }
    }
}

/// Escapes one JSON-pointer segment.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_items_by_pointer() {
        let text = "version: 1\nmethods:\n  create:\n    body:\n      emial: supported\n    steps:\n      - id: a\n      - { id: b }\n";
        let index = PositionIndex::build(text);
        assert_eq!(index.locate("/methods/create/body/emial"), (5, 7));
        assert_eq!(index.locate("/methods/create/steps/1"), (8, 9));
        assert_eq!(index.locate("/methods/create/steps/0/id"), (7, 9));
        assert_eq!(index.locate("/methods/create/steps/1/id"), (8, 11));
        assert_eq!(index.locate("/methods/create/nothing/here"), (3, 3));
    }
}
