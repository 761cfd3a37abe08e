// Migrations are embedded at compile time; a new file in the folder must trigger a rebuild.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
