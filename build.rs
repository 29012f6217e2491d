//! Minifies the guided tours (`scenarios/*.json`) into `OUT_DIR` for `include_str!`: they are
//! written pretty for people, but the page carries them in its wasm, where indentation costs
//! bytes of a tight budget. Whitespace outside strings goes; nothing else changes.

use std::fs;
use std::path::Path;

fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !c.is_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

fn main() {
    println!("cargo:rerun-if-changed=scenarios");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("scenarios");
    fs::create_dir_all(&out).expect("OUT_DIR is writable");
    for entry in fs::read_dir("scenarios").expect("scenarios/ exists") {
        let path = entry.expect("readable directory").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = fs::read_to_string(&path).expect("a tour is UTF-8 text");
            fs::write(out.join(path.file_name().expect("a file")), minify(&text)).expect("written");
        }
    }
}
