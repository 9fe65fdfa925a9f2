//! The `talk_roles` example runs, and its policy refuses what it says.

use std::process::Command;

#[test]
fn talk_roles_refuses_members_and_allows_the_owner() {
    let test = std::env::current_exe().expect("this test's path");
    // target/<profile>/deps/<this test> → target/<profile>/examples/talk_roles
    let profile = test.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let program = profile.join("examples").join(format!("talk_roles{}", std::env::consts::EXE_SUFFIX));
    let output = Command::new(&program).output().unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "member renames: forbidden (owner_only: only the talk's owner may do this)\n\
         owner renames: Owned\n\
         member closes: forbidden\n"
    );
}
