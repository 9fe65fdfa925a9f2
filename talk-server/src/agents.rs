//! The agents the server knows and their tokens: given on the command line
//! or in agents files, or the default agents with tokens kept in a tokens
//! file (made on the first start), or with new tokens at every start.

use std::io::Write;
use std::path::{Path, PathBuf};

use talk_core::AgentId;

use crate::cli::{Cli, parse_agent};
use crate::error::{FileProblem, StartupError};

/// The agents known by default, as in the Talk overview.
const DEFAULT_AGENTS: [&str; 5] = ["agent-id-1", "agent-id-2", "agent-id-3", "agent-id-4", "agent-123"];

/// Where the tokens came from, as the start-up lines tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `--agent` or `--agents-file`: the operator knows them.
    Given,
    /// The default agents, their tokens kept in this file; `created` if it
    /// was made by this start.
    Kept { file: PathBuf, created: bool },
    /// The default agents, with tokens new at this start and kept nowhere.
    Fresh,
}

/// The agents and their tokens, and where the tokens came from.
#[derive(Debug)]
pub(crate) struct Agents {
    pub(crate) list: Vec<(AgentId, String)>,
    pub(crate) origin: Origin,
}

/// The agents of `--agent` and `--agents-file`, if any were given.
pub(crate) fn given(cli: &Cli) -> Result<Option<Agents>, StartupError> {
    if cli.agents.is_empty() && cli.agents_files.is_empty() {
        return Ok(None);
    }
    let mut list = cli.agents.clone();
    for path in &cli.agents_files {
        let read = read_file(path).map_err(|problem| StartupError::AgentsFile { path: path.clone(), problem })?;
        list.extend(read);
    }
    Ok(Some(Agents { list, origin: Origin::Given }))
}

/// The default agents, with the tokens of `file` (made on its first use),
/// or with new tokens when there is no file.
pub(crate) fn defaults(file: Option<PathBuf>) -> Result<Agents, StartupError> {
    let Some(file) = file else {
        return Ok(Agents { list: new_tokens(), origin: Origin::Fresh });
    };
    let tokens_file = |problem| StartupError::TokensFile { path: file.clone(), problem };
    let (list, created) = match std::fs::read_to_string(&file) {
        Ok(text) => (parse_file(&text).map_err(tokens_file)?, false),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let list = new_tokens();
            write_private(&file, &tokens_file_text(&list)).map_err(|e| tokens_file(FileProblem::Write(e)))?;
            (list, true)
        }
        Err(error) => return Err(tokens_file(FileProblem::Read(error))),
    };
    Ok(Agents { list, origin: Origin::Kept { file, created } })
}

/// The default agents, each with a new random token (every one of them is
/// a well-formed id: a test checks it).
fn new_tokens() -> Vec<(AgentId, String)> {
    DEFAULT_AGENTS.iter().filter_map(|id| AgentId::parse(id).ok()).map(|id| (id, random_token())).collect()
}

fn random_token() -> String {
    rand::random::<[u8; 16]>().iter().map(|b| format!("{b:02x}")).collect()
}

/// The agents of a file of `ID=TOKEN` lines (`#` starts a comment line).
fn read_file(path: &Path) -> Result<Vec<(AgentId, String)>, FileProblem> {
    let text = std::fs::read_to_string(path).map_err(FileProblem::Read)?;
    parse_file(&text)
}

fn parse_file(text: &str) -> Result<Vec<(AgentId, String)>, FileProblem> {
    let agents = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(number, line)| parse_agent(line).map_err(|why| FileProblem::Line { number, why }))
        .collect::<Result<Vec<_>, _>>()?;
    if agents.is_empty() {
        return Err(FileProblem::Empty);
    }
    Ok(agents)
}

/// A tokens file: what it is, then one `ID=TOKEN` line per agent (an
/// agents file, as `--agents-file` reads).
fn tokens_file_text(agents: &[(AgentId, String)]) -> String {
    let mut text = String::from(
        "# The Talk demo server's agents and their tokens for this database, made at its first start.\n\
         # Keep it private; delete it to get new tokens at the next start.\n",
    );
    for (agent, token) in agents {
        text.push_str(&format!("{agent}={token}\n"));
    }
    text
}

/// Writes `text` to `path` (replacing it whole, never leaving half of it),
/// readable and writable by its owner only on Unix.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".new");
    let temporary = PathBuf::from(temporary);
    // A file left by an interrupted start may have other permissions.
    match std::fs::remove_file(&temporary) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&temporary, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tokens_file_is_made_once_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("talk.db.tokens");
        let first = defaults(Some(file.clone())).unwrap();
        assert_eq!(first.origin, Origin::Kept { file: file.clone(), created: true });
        let ids: Vec<_> = first.list.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, DEFAULT_AGENTS);
        let second = defaults(Some(file.clone())).unwrap();
        assert_eq!(second.origin, Origin::Kept { file: file.clone(), created: false });
        assert_eq!(second.list, first.list);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(!dir.path().join("talk.db.tokens.new").exists());
    }

    #[test]
    fn without_a_file_the_tokens_are_new_each_time() {
        let first = defaults(None).unwrap();
        let second = defaults(None).unwrap();
        assert_eq!(first.origin, Origin::Fresh);
        assert_eq!(first.list.len(), DEFAULT_AGENTS.len());
        assert_ne!(first.list, second.list);
    }

    #[test]
    fn agents_files_are_read_line_by_line() {
        let parsed = parse_file("# agents\n\nagent-1 = t1\n  agent-2=t2  \n").unwrap();
        let parsed: Vec<_> = parsed.iter().map(|(id, token)| (id.as_str(), token.as_str())).collect();
        assert_eq!(parsed, [("agent-1", "t1"), ("agent-2", "t2")]);
        assert!(matches!(parse_file("# a\nagent-1=t1\nagent-2\n"), Err(FileProblem::Line { number: 3, .. })));
        assert!(matches!(parse_file("# nothing\n\n"), Err(FileProblem::Empty)));
    }
}
