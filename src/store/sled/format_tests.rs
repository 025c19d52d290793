//! The stored format: every kind of record survives the compact encoding, and a data folder
//! written by earlier versions (uncompressed sled, JSON records) opens and reads through today's
//! code.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::flow::model::Target;
use crate::flow::{Session, State};

fn phone(n: u32) -> ContactId {
    ContactId::parse(&format!("+6281300000{n:03}")).unwrap()
}

fn message(id: u64, phone: &ContactId, author: Author, broadcast: Option<u64>) -> MessageRecord {
    MessageRecord {
        id,
        contact: phone.clone(),
        direction: Direction::In,
        channel: Channel::TwilioSms,
        author,
        text: "سلام، تاریخ پرداخت بعدی کی است؟".into(),
        external_id: Some(format!("SM{id:032x}")),
        status: MessageStatus::Received,
        error: None,
        created_at: 1_764_633_356_000 + id,
        updated_at: 1_764_633_356_000 + id,
        media: None,
        media_file: None,
        unsupported: None,
        broadcast,
    }
}

fn outbox_item(id: u64, to: &ContactId, lane: Lane, broadcast: Option<u64>) -> OutboxItem {
    OutboxItem {
        sms_phone: None,
        message_id: id,
        channel: Channel::TwilioSms,
        to: to.clone(),
        text: "Jawaabta".into(),
        attempts: 1,
        next_attempt_at: 1_764_633_356_000,
        last_error: Some("429".into()),
        interactive: Some(Interactive {
            body: "Dooro".into(),
            button: "Menu".into(),
            rows: vec![("1".into(), "Lacagta".into())],
        }),
        language: Some(Lang::Somali),
        held: None,
        lane,
        broadcast,
    }
}

fn round_trip<T>(value: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = encode(value).unwrap();
    assert_eq!(bytes[0], COMPACT_RECORD);
    let back: T = decode(b"test", &bytes).unwrap();
    assert_eq!(&back, value);
}

/// The attributes a positional encoding gets wrong: a field skipped in the middle of a struct
/// (an interactive reply of a broadcast), skipped fields at the end, adjacently tagged unit and
/// newtype variants, internally tagged session states, maps, dates.
#[test]
fn every_kind_of_record_round_trips_through_the_compact_encoding() {
    let p = phone(1);
    for author in [Author::Contact, Author::Bot, Author::User("amina".into())] {
        round_trip(&message(7, &p, author.clone(), None));
        round_trip(&message(8, &p, author, Some(3)));
    }
    for (lane, broadcast) in [
        (Lane::Interactive, None),
        (Lane::Interactive, Some(5)),
        (Lane::Bulk, None),
        (Lane::Bulk, Some(5)),
    ] {
        round_trip(&outbox_item(9, &p, lane, broadcast));
    }
    let mut contact = Contact::new(p.clone(), 1);
    round_trip(&contact);
    contact.tags = vec!["parents".into()];
    contact.language = Some(Lang::Tigrinya);
    contact.last_channel = Some(Channel::Whatsapp);
    round_trip(&contact);
    let target = Target {
        flow: "main".into(),
        node: "menu".into(),
    };
    for state in [
        State::New,
        State::ChoosingLanguage {
            order: vec![Lang::Dari, Lang::Farsi],
            first: true,
        },
        State::At { at: target.clone() },
        State::OfferingHuman { at: target },
        State::Human {
            topic: "payment".into(),
        },
    ] {
        round_trip(&Session {
            state: state.clone(),
            vars: BTreeMap::from([("city".to_string(), "Batam".to_string())]),
            misses: 1,
            first_question: None,
        });
        round_trip(&Session {
            state,
            vars: BTreeMap::new(),
            misses: 0,
            first_question: Some("kapan uangnya?".into()),
        });
    }
    round_trip(&Ticket {
        id: 4,
        contact: p.clone(),
        language: Lang::Arabic,
        topic: "payment".into(),
        status: TicketStatus::Open,
        opened_at: 1,
        waiting_since: Some(2),
        message_ids: vec![7, 8],
        urgent: true,
        details: BTreeMap::from([("case".to_string(), "UNHCR-1".to_string())]),
        also: vec!["data-deletion".into()],
        claimed_by: Some("amina".into()),
        claimed_at: Some(3),
        first_response_at: None,
        closed_at: None,
        notes: vec![Note {
            at: 4,
            author: "amina".into(),
            text: "called back".into(),
        }],
    });
    round_trip(&PaymentEntry {
        city: "Makassar".into(),
        next_payment_date: chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
        note: None,
        updated_at: 5,
    });
    round_trip(&42u64);
}

/// The compact record is what the change is for: clearly smaller than the same record as JSON.
#[test]
fn a_compact_message_record_is_smaller_than_its_json() {
    let m = message(7, &phone(1), Author::Contact, None);
    let compact = encode(&m).unwrap().len();
    let json = serde_json::to_vec(&m).unwrap().len();
    assert!(
        compact * 100 <= json * 85,
        "compact {compact} B, JSON {json} B"
    );
}

/// A queued reply's text is stored once, in its message: the outbox entry is stored without it
/// and every way of reading the outbox gives it back.
#[test]
fn a_queued_reply_keeps_its_text_once_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let p = phone(4);
    let text =
        "Lacagta bishan waxay imanaysaa 15-ka. Ka jawaab 1 si aad u hesho macluumaad dheeraad ah.";
    let id = store
        .queue_message(
            &p,
            Channel::TwilioSms,
            Author::Bot,
            text,
            Some(Lang::Somali),
        )
        .unwrap();
    let raw = store
        .tree
        .get(keys::outbox(id).as_bytes())
        .unwrap()
        .unwrap();
    assert!(
        !raw.windows(8).any(|w| w == &text.as_bytes()[..8]),
        "the outbox entry repeats the text"
    );
    let (due, _) = store.due_outbox(u64::MAX, 10).unwrap();
    for items in [store.outbox().unwrap(), store.outbox_of(&p).unwrap(), due] {
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].text, text);
    }
    // A rerouted item whose text differs from its record's keeps its own.
    let mut item = store.outbox().unwrap().remove(0);
    item.text = "Lacagta: 15-ka.".into();
    store.outbox_reroute(&item, "sent as SMS").unwrap();
    assert_eq!(store.outbox().unwrap()[0].text, "Lacagta: 15-ka.");
}

/// A damaged record is an error naming the key, in either encoding, never a panic.
#[test]
fn damaged_records_are_errors_in_both_encodings() {
    for bytes in [&b"{not json"[..], &[COMPACT_RECORD, 0x93, 0x01][..], &[]] {
        match decode::<MessageRecord>(b"m/00000000000000ff", bytes) {
            Err(StoreError::Corrupt { key, .. }) => assert_eq!(key, "m/00000000000000ff"),
            other => panic!("{other:?}"),
        }
    }
}

/// Writes a data folder the way kabar did before the compact encoding: sled with its default
/// settings (no compression) and JSON values under the same keys.
fn write_old_store(dir: &Path, p: &ContactId) {
    let db = sled::Config::new()
        .path(dir.join("kabar.sled"))
        .cache_capacity(64 * 1024 * 1024)
        .open()
        .unwrap();
    let tree = db.open_tree("kabar").unwrap();
    let mut contact = Contact::new(p.clone(), 10);
    contact.language = Some(Lang::Dari);
    contact.last_channel = Some(Channel::TwilioSms);
    let session = Session {
        state: State::Human {
            topic: "payment".into(),
        },
        vars: BTreeMap::new(),
        misses: 0,
        first_question: None,
    };
    let inbound = message(100, p, Author::Contact, None);
    let mut reply = message(101, p, Author::Bot, None);
    reply.direction = Direction::Out;
    reply.status = MessageStatus::Accepted;
    reply.external_id = Some("SMreply".into());
    let queued = outbox_item(102, p, Lane::Interactive, None);
    let ticket = Ticket {
        id: 1,
        contact: p.clone(),
        language: Lang::Dari,
        topic: "payment".into(),
        status: TicketStatus::Open,
        opened_at: 20,
        waiting_since: Some(20),
        message_ids: vec![100, 101],
        urgent: false,
        details: BTreeMap::new(),
        also: Vec::new(),
        claimed_by: None,
        claimed_at: None,
        first_response_at: None,
        closed_at: None,
        notes: Vec::new(),
    };
    let user = User {
        name: "amina".into(),
        role: Role::Interpreter,
        languages: vec![Lang::Dari],
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: 5,
        disabled: false,
    };
    let records: Vec<(String, Vec<u8>)> = vec![
        (keys::contact(p), json(&contact)),
        (keys::session(p), json(&session)),
        (keys::message(100), json(&inbound)),
        (keys::message(101), json(&reply)),
        (
            keys::message(102),
            json(&message(102, p, Author::Bot, None)),
        ),
        (keys::outbox(102), json(&queued)),
        (keys::ticket(1), json(&ticket)),
        (keys::open_ticket(p), json(&1u64)),
        (keys::NEXT_TICKET.to_string(), json(&2u64)),
        (keys::user("amina"), json(&user)),
    ];
    for (key, value) in records {
        assert!(matches!(value[0], b'{' | b'0'..=b'9'), "JSON as before");
        tree.insert(key.as_bytes(), value).unwrap();
    }
    for id in [100u64, 101, 102] {
        tree.insert(keys::history(p, id).as_bytes(), &[] as &[u8])
            .unwrap();
    }
    tree.insert(
        keys::external(Channel::TwilioSms, "SM00000000000000000000000000000064").as_bytes(),
        &100u64.to_be_bytes(),
    )
    .unwrap();
    tree.insert(
        keys::external(Channel::TwilioSms, "SMreply").as_bytes(),
        &101u64.to_be_bytes(),
    )
    .unwrap();
    tree.insert(
        keys::outbox_due(Lane::Interactive, queued.next_attempt_at, 102).as_bytes(),
        &[] as &[u8],
    )
    .unwrap();
    tree.insert(
        keys::outbox_recipient(Lane::Interactive, p, 102).as_bytes(),
        &[] as &[u8],
    )
    .unwrap();
    // Ids continue above the ones in use, as sled's generator did.
    while db.generate_id().unwrap() < 1000 {}
    db.flush().unwrap();
}

/// A record as the store wrote it before the compact encoding.
fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

/// A data folder from before the compact encoding (uncompressed sled, JSON records) opens: it
/// is converted to a compressed database once, every record reads as it was written, records
/// changed afterwards are written compact, and the folder opens again after that.
#[tokio::test]
async fn an_old_json_store_opens_reads_and_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let p = phone(2);
    write_old_store(dir.path(), &p);
    // sled's `conf` is text lines followed by a checksum.
    let conf = |dir: &Path| {
        String::from_utf8_lossy(&std::fs::read(dir.join("kabar.sled/conf")).unwrap()).into_owned()
    };
    assert!(conf(dir.path()).contains("use_compression: false"));

    let store = Store::open(dir.path()).unwrap();
    assert!(
        conf(dir.path()).contains("use_compression: true"),
        "converted: {}",
        conf(dir.path())
    );
    let contact = store.contact(&p).unwrap().unwrap();
    assert_eq!(contact.language, Some(Lang::Dari));
    assert_eq!(
        store.session(&p).unwrap().state,
        State::Human {
            topic: "payment".into()
        }
    );
    let history = store.history(&p).unwrap();
    assert_eq!(
        history.iter().map(|m| m.id).collect::<Vec<_>>(),
        [100, 101, 102]
    );
    assert_eq!(history[0].text, "سلام، تاریخ پرداخت بعدی کی است؟");
    assert_eq!(history[1].author, Author::Bot);
    let ticket = store.open_ticket_of(&p).unwrap().unwrap();
    assert_eq!((ticket.id, ticket.message_ids.clone()), (1, vec![100, 101]));
    assert_eq!(
        store.user("amina").unwrap().unwrap().role,
        Role::Interpreter
    );
    let (due, _) = store.due_outbox(u64::MAX, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].language, Some(Lang::Somali));

    // Dedupe keys still recognise a retry of the old inbound message.
    let retry = journal::JournalEntry {
        received_at: 30,
        inbound: NewInbound {
            profile: Default::default(),
            channel: Channel::TwilioSms,
            from: p.clone(),
            text: "again".into(),
            external_id: "SM00000000000000000000000000000064".into(),
            media: None,
            unsupported: None,
        },
    };
    assert_eq!(
        store.record_inbound(&retry).unwrap(),
        InboundOutcome::Duplicate { message_id: 100 }
    );
    // A status report on an old record rewrites it in the compact encoding.
    let update = store
        .update_status_by_external(
            Channel::TwilioSms,
            "SMreply",
            MessageStatus::Delivered,
            None,
        )
        .unwrap();
    assert!(matches!(update, StatusUpdate::Updated(_)), "{update:?}");
    let raw = store
        .tree
        .get(keys::message(101).as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(raw[0], COMPACT_RECORD);
    let raw = store
        .tree
        .get(keys::message(100).as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(raw[0], b'{', "untouched records stay JSON until rewritten");
    // New ids continue above the old ones (the conversion is a compaction).
    let id = store
        .queue_message(&p, Channel::TwilioSms, Author::Bot, "salaam", None)
        .unwrap();
    assert!(id > 1000, "{id}");
    store.close().unwrap();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    let history = store.history(&p).unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(history[1].status, MessageStatus::Delivered);
    assert_eq!(history[3].text, "salaam");
    assert_eq!(store.tickets().unwrap().len(), 1);
}

/// An old data folder on a disk too full for the conversion still opens, uncompressed (sled's
/// import would panic on a failed write, so the conversion checks the space first), and is
/// converted at a later start once there is room. Needs root for a small tmpfs; skipped
/// otherwise.
#[test]
fn an_old_store_on_a_full_disk_opens_unconverted_and_converts_later() {
    use std::process::Command;
    // SAFETY: geteuid has no arguments and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let mount_point = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
        .arg(mount_point.path())
        .status();
    if !mounted.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(self.0).status();
        }
    }
    let _unmount = Unmount(mount_point.path());
    let dir = mount_point.path().join("data");
    let p = phone(3);
    write_old_store(&dir, &p);
    // Leave 2 MiB: enough to run, not enough for a copy of the database and its margin.
    let free = crate::disk::disk_space(&dir).unwrap().free_bytes;
    let filler = mount_point.path().join("filler");
    std::fs::write(&filler, vec![0u8; (free - 2 * 1024 * 1024) as usize]).unwrap();
    let conf = |dir: &Path| {
        String::from_utf8_lossy(&std::fs::read(dir.join("kabar.sled/conf")).unwrap()).into_owned()
    };

    let store = Store::open(&dir).unwrap();
    assert!(conf(&dir).contains("use_compression: false"));
    assert!(!dir.join("kabar.sled.compact").exists());
    assert_eq!(
        store.contact(&p).unwrap().unwrap().language,
        Some(Lang::Dari)
    );
    let id = store
        .queue_message(&p, Channel::TwilioSms, Author::Bot, "salaam", None)
        .unwrap();
    store.close().unwrap();
    drop(store);

    std::fs::remove_file(&filler).unwrap();
    let store = Store::open(&dir).unwrap();
    assert!(conf(&dir).contains("use_compression: true"));
    let history = store.history(&p).unwrap();
    assert_eq!(
        history.last().map(|m| (m.id, m.text.as_str())),
        Some((id, "salaam"))
    );
    store.close().unwrap();
}
