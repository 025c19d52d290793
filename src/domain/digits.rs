//! Digits in the scripts people type here.

/// Maps any decimal digit people use here (ASCII, Arabic-Indic, Persian, Ethiopic ፩–፱) to ASCII.
pub fn fold_digit(c: char) -> Option<char> {
    let d = match c {
        '0'..='9' => c as u32 - '0' as u32,
        '\u{0660}'..='\u{0669}' => c as u32 - 0x0660,
        '\u{06F0}'..='\u{06F9}' => c as u32 - 0x06F0,
        // Ethiopic has no zero: ፩ (U+1369) is one … ፱ (U+1371) is nine.
        '\u{1369}'..='\u{1371}' => c as u32 - 0x1369 + 1,
        _ => return None,
    };
    char::from_digit(d, 10)
}
