//! SMS segment counting (DESIGN §3): GSM-7 when every character is in the GSM 03.38 basic or
//! extension table, otherwise UCS-2 for the whole message.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segments {
    pub encoding: Encoding,
    /// Length in the encoding's units (septets, or UTF-16 code units).
    pub units: usize,
    pub segments: usize,
}

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED: &str = "^{}\\[]~|€\u{000C}";

fn gsm_units(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Counts the segments `text` takes as one SMS.
pub fn count(text: &str) -> Segments {
    let gsm: Option<usize> = text.chars().map(gsm_units).sum();
    let (encoding, units, single, multi) = match gsm {
        Some(units) => (Encoding::Gsm7, units, 160, 153),
        None => (Encoding::Ucs2, text.encode_utf16().count(), 70, 67),
    };
    let segments = if units <= single {
        1
    } else {
        units.div_ceil(multi)
    };
    Segments {
        encoding,
        units,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_and_ucs2_limits() {
        assert_eq!(count(&"a".repeat(160)).segments, 1);
        assert_eq!(count(&"a".repeat(161)).segments, 2);
        assert_eq!(count(&"a".repeat(306)).segments, 2);
        assert_eq!(count(&"{".repeat(80)).units, 160);
        let arabic = "س".repeat(70);
        assert_eq!(count(&arabic).encoding, Encoding::Ucs2);
        assert_eq!(count(&arabic).segments, 1);
        assert_eq!(count(&"س".repeat(134)).segments, 2);
        assert_eq!(count(&"س".repeat(135)).segments, 3);
        // one Arabic letter turns an English message into UCS-2
        assert_eq!(count(&format!("{}س", "a".repeat(70))).segments, 2);
        // emoji outside the BMP count two UTF-16 units
        assert_eq!(count("😀").units, 2);
    }
}
