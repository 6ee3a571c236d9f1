//! Encrypting into another format (`--output-type`): the real sops opens
//! the result and reads the same data, and sopx decrypts it back into the
//! original format.

mod common;

use common::*;

#[test]
fn encrypt_across_formats_opens_with_sops() {
    let Some(sops) = require_sops() else { return };
    let sb = Sandbox::new();
    let mut f = Failures::default();
    let mut checked = 0;
    for c in corpus().into_iter().filter(|c| c.flags.is_empty()) {
        // Multi-document YAML has no JSON form; skip it like sops does.
        if c.format == Format::Yaml && c.text().contains("\n---") {
            continue;
        }
        let (to, ext) = match c.format {
            Format::Yaml => ("json", "json"),
            _ => ("yaml", "yaml"),
        };
        checked += 1;
        f.check(
            &c.name,
            (|| {
                let enc = run(sb
                    .sopx()
                    .args(["encrypt", "--output-type", to, "--age"])
                    .arg(pub1())
                    .arg(&c.path));
                if !enc.ok() {
                    return Err(format!(
                        "sopx encrypt --output-type {to}: {}",
                        enc.describe()
                    ));
                }
                let path = sb.write(&format!("{}.{ext}", c.name), &enc.stdout);
                let by_sops = run(sb.sops(&sops).arg("decrypt").arg(&path));
                if !by_sops.ok() {
                    return Err(format!("sops decrypt: {}", by_sops.describe()));
                }
                let from = if c.format == Format::Yaml {
                    "yaml"
                } else {
                    "json"
                };
                let back = run(sb
                    .sopx()
                    .args(["decrypt", "--output-type", from])
                    .arg(&path));
                if !back.ok() {
                    return Err(format!("sopx decrypt back: {}", back.describe()));
                }
                same_data(c.format, &c.text(), &back.stdout_str())
            })(),
        );
    }
    assert!(checked > 40, "only {checked} files");
    f.finish("encrypt --output-type");
}
