//! The command line is clap's: `--help` shows every flag with its default
//! and an example; a bad command line is refused with exit code 2.

mod common;

use common::run;

const FLAGS: [&str; 10] = [
    "--listen",
    "--db",
    "--postgres",
    "--postgres-schema",
    "--postgres-application-name",
    "--agent",
    "--agents-file",
    "--tokens-file",
    "--rate-limit",
    "--backup",
];

#[test]
fn help_shows_every_flag_with_its_default_and_an_example() {
    let ended = run(&["--help"]);
    assert!(ended.status.success(), "{ended:?}");
    let help = ended.stdout;
    for flag in FLAGS {
        let at = help.find(&format!("      {flag} <")).unwrap_or_else(|| panic!("{flag} missing:\n{help}"));
        // Its entry: up to the next flag's.
        let entry = &help[at..];
        let entry = &entry[..entry[1..].find("\n      --").map_or(entry.len(), |end| end + 1)];
        assert!(entry.contains("default: "), "no default for {flag}:\n{entry}");
        assert!(entry.contains(&format!("Example: {flag} ")), "no example for {flag}:\n{entry}");
    }
    assert!(help.contains("[default: 127.0.0.1:8080]") && help.contains("[default: talk.db]"), "{help}");
}

#[test]
fn a_bad_command_line_exits_with_2() {
    for args in [
        &["--no-such-flag"][..],
        &["--listen", "8080"],
        &["--db", "a.db", "--postgres", "postgres://127.0.0.1/talk"],
        &["--postgres-schema", "talk"],
        &["--agent", "agent-1"],
        &["--rate-limit", "0"],
    ] {
        let ended = run(args);
        assert_eq!(ended.status.code(), Some(2), "{args:?}: {ended:?}");
        assert!(ended.stderr.starts_with("error: "), "{args:?}: {}", ended.stderr);
        assert_eq!(ended.stdout, "");
    }
}
