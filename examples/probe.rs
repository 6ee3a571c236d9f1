use saphyr_parser::Parser;
fn main() {
    let src = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let chars: Vec<char> = src.chars().collect();
    let mut p = Parser::new_from_str(&src);
    while let Some(ev) = p.next_event() {
        let (ev, sp) = ev.unwrap();
        let s: String = chars[sp.start.index()..sp.end.index().min(chars.len())]
            .iter()
            .collect();
        println!(
            "{:?} [{}..{}] l{}c{} {:?}",
            ev,
            sp.start.index(),
            sp.end.index(),
            sp.start.line(),
            sp.start.col(),
            s
        );
    }
}
