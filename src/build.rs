// The flows and locales are built into the binary (src/content.rs); rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=flows");
    println!("cargo:rerun-if-changed=locales");
}
