//! Compile-time behaviour of `settings_api!`: a broken spec is a compile error that names the
//! spec path and the JSON path of every problem; a changed spec changes the generated API; the
//! generated structs are `#[non_exhaustive]`, so a struct literal outside the crate is refused.
//! Refresh the expected output with `TRYBUILD=overwrite cargo test -p greenapi-settings --test ui`.

#[test]
fn bad_specs_and_struct_literals_fail_to_compile_naming_the_cause() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
