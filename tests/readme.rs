//! The README's Leptos snippet is the example app's code (`examples/leptos-app`, which the test
//! command builds and runs in Chromium): each of its lines is in `src/main.rs`, in order.
//! `// …` lines stand for what the snippet leaves out. (The README's other Rust snippets are
//! doc tests: `ReadmeDoctests` in src/lib.rs.)

#[test]
fn the_readme_leptos_snippet_is_the_example_apps_code() {
    let readme = include_str!("../README.md");
    let app = include_str!("../examples/leptos-app/src/main.rs");
    let start = readme.find("```rust,ignore\n").expect("the Leptos snippet") + 15;
    let end = start + readme[start..].find("```").expect("the snippet's end");
    let app_lines: Vec<&str> = app.lines().map(str::trim).collect();
    let mut at = 0;
    let mut checked = 0;
    for line in readme[start..end].lines().map(str::trim) {
        if line.is_empty() || line.starts_with("// …") {
            continue;
        }
        match app_lines[at..].iter().position(|l| *l == line) {
            Some(i) => at += i + 1,
            None => panic!("README line not in examples/leptos-app/src/main.rs (in order): {line}"),
        }
        checked += 1;
    }
    assert!(checked > 40, "only {checked} lines checked");
}
