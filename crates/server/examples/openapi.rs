//! Prints the OpenAPI document `/openapi.json` serves, for validators in the test command
//! (`cargo run -q -p patchbay-server --example openapi > target/openapi.json`).

fn main() {
    let doc = patchbay_server::openapi::document();
    println!("{}", doc.to_pretty_json().expect("the OpenAPI document serializes"));
}
