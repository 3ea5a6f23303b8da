//! Reminder transports against real receivers on loopback: an SMTP server, an HTTP SMS gateway, and the PDF read back.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ardoise_server::send::{Channel, Outgoing, SendError, SmsConfig, SmtpConfig, TransportConfig, Transports};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use mailparse::MailHeaderMap;

const BODY: &str = "Bonjour Hélène,\n\nSauf erreur de notre part, votre ardoise présente un solde impayé.\n\
Merci de régler la somme due à réception de ce courrier.\n\nCordialement,\nL’équipe de l’Épicerie";

fn outgoing(channel: Channel, recipient: &str) -> Outgoing {
    Outgoing {
        reminder_id: uuid::Uuid::new_v4(),
        channel,
        recipient: recipient.to_owned(),
        customer_name: "Hélène Dupré".to_owned(),
        shop_name: "Épicerie du Marché".to_owned(),
        shop_email: "contact@epicerie-marche.fr".to_owned(),
        subject: "Relance : impayé de 1 234,50 € — dernière échéance".to_owned(),
        body: BODY.to_owned(),
        amount_due: "1234.50".to_owned(),
        penalties: "12.34".to_owned(),
        indemnity: "40.00".to_owned(),
        formal_notice: true,
        date: chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
        document: None,
    }
}

fn config(dir: &tempfile::TempDir) -> TransportConfig {
    TransportConfig { smtp: None, mail_dir: None, sms: None, letters_dir: dir.path().join("letters") }
}

/// Amounts as the transports print them: French grouping with no-break spaces.
const DUE: &str = "1\u{a0}234,50\u{a0}€";
const PENALTIES: &str = "12,34\u{a0}€";
const INDEMNITY: &str = "40,00\u{a0}€";

// ---------------------------------------------------------------- SMTP

#[derive(Debug, Clone, Default)]
struct Received {
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

type Inbox = Arc<Mutex<Vec<Received>>>;

/// A mailin session handler: a real SMTP state machine, fed by [`serve_smtp`].
struct Capture {
    inbox: Inbox,
    current: Received,
}

impl mailin::Handler for Capture {
    fn rcpt(&mut self, to: &str) -> mailin::Response {
        if to.trim_matches(['<', '>']).starts_with("inconnu@") {
            mailin::response::NO_MAILBOX
        } else {
            mailin::response::OK
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> mailin::Response {
        self.current = Received { from: from.to_owned(), to: to.to_vec(), data: Vec::new() };
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin::Response {
        self.inbox.lock().unwrap().push(std::mem::take(&mut self.current));
        mailin::response::OK
    }
}

/// Starts an SMTP server on loopback; it lives as long as the test process.
fn start_smtp() -> (u16, Inbox) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = Inbox::default();
    let shared = inbox.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handler = Capture { inbox: shared.clone(), current: Received::default() };
            std::thread::spawn(move || serve_smtp(stream, handler));
        }
    });
    (port, inbox)
}

fn serve_smtp(stream: std::net::TcpStream, handler: Capture) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let peer = stream.peer_addr()?.ip();
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut session = mailin::SessionBuilder::new("mx.test.local").build(peer, handler);
    session.greeting().write_to(&mut writer)?;
    writer.flush()?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let response = session.process(&line);
        match response.action {
            mailin::Action::NoReply => continue,
            mailin::Action::Reply => response.write_to(&mut writer)?,
            mailin::Action::Close | mailin::Action::UpgradeTls => {
                response.write_to(&mut writer)?;
                writer.flush()?;
                return Ok(());
            }
        }
        writer.flush()?;
    }
}

fn smtp_transports(dir: &tempfile::TempDir, port: u16) -> Transports {
    let mut smtp = SmtpConfig::new("127.0.0.1", port, false);
    smtp.timeout_secs = 5;
    Transports::new(TransportConfig { smtp: Some(smtp), ..config(dir) }).unwrap()
}

#[tokio::test]
async fn email_reaches_a_real_smtp_server() {
    let (port, inbox) = start_smtp();
    let dir = tempfile::tempdir().unwrap();
    let transports = smtp_transports(&dir, port);
    let o = outgoing(Channel::Email, "helene.dupre@example.fr");

    let delivery = transports.send(&o).await.unwrap();
    assert_eq!(delivery.channel, Channel::Email);
    assert_eq!(delivery.detail, format!("<{}@epicerie-marche.fr>", o.reminder_id));

    let mails = inbox.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.from.trim_matches(['<', '>']), "contact@epicerie-marche.fr");
    assert_eq!(mail.to.iter().map(|t| t.trim_matches(['<', '>'])).collect::<Vec<_>>(), ["helene.dupre@example.fr"]);

    let parsed = mailparse::parse_mail(&mail.data).unwrap();
    let headers = parsed.get_headers();
    assert_eq!(headers.get_first_value("Subject").unwrap(), o.subject);
    let from = headers.get_first_value("From").unwrap();
    assert!(from.contains("Épicerie du Marché"), "{from}");
    assert!(from.contains("<contact@epicerie-marche.fr>"), "{from}");
    let to = headers.get_first_value("To").unwrap();
    assert!(to.contains("Hélène Dupré") && to.contains("<helene.dupre@example.fr>"), "{to}");
    assert_eq!(headers.get_first_value("Message-ID").unwrap(), delivery.detail);
    assert_eq!(parsed.ctype.mimetype, "multipart/alternative");
    let (plain, html) = (&parsed.subparts[0], &parsed.subparts[1]);
    assert_eq!((plain.ctype.mimetype.as_str(), html.ctype.mimetype.as_str()), ("text/plain", "text/html"));
    assert_eq!(plain.ctype.charset.to_ascii_lowercase(), "utf-8");
    let html = html.get_body().unwrap();
    assert!(html.contains("<p>Bonjour Hélène,</p>") && html.contains(DUE), "{html}");

    let body = plain.get_body().unwrap();
    assert!(body.starts_with("MISE EN DEMEURE"), "{body}");
    assert!(body.contains("Bonjour Hélène,"), "{body}");
    assert!(body.contains("L’équipe de l’Épicerie"), "{body}");
    assert!(body.contains(&format!("Montant dû : {DUE}")), "{body}");
    assert!(body.contains(&format!("Pénalités de retard : {PENALTIES}")), "{body}");
    assert!(body.contains(INDEMNITY), "{body}");
}

#[tokio::test]
async fn email_refused_by_the_server_is_permanent() {
    let (port, inbox) = start_smtp();
    let dir = tempfile::tempdir().unwrap();
    let transports = smtp_transports(&dir, port);

    let err = transports.send(&outgoing(Channel::Email, "inconnu@example.fr")).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent(_)), "{err:?}");
    assert!(err.message().contains("550"), "{err}");
    assert!(inbox.lock().unwrap().is_empty());
}

#[tokio::test]
async fn email_with_a_bad_address_is_permanent() {
    let (port, inbox) = start_smtp();
    let dir = tempfile::tempdir().unwrap();
    let transports = smtp_transports(&dir, port);

    let err = transports.send(&outgoing(Channel::Email, "helene at example")).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent(_)), "{err:?}");
    assert!(inbox.lock().unwrap().is_empty());
}

#[tokio::test]
async fn email_with_the_smtp_server_down_is_transient() {
    // A port that was free a moment ago: nothing listens there any more.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let transports = smtp_transports(&dir, port);

    let err = transports.send(&outgoing(Channel::Email, "helene.dupre@example.fr")).await.unwrap_err();
    assert!(matches!(err, SendError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn email_goes_to_the_mail_folder_without_smtp() {
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = dir.path().join("mail");
    let transports = Transports::new(TransportConfig { mail_dir: Some(mail_dir.clone()), ..config(&dir) }).unwrap();
    let o = outgoing(Channel::Email, "helene.dupre@example.fr");

    let delivery = transports.send(&o).await.unwrap();
    let path = std::path::PathBuf::from(&delivery.detail);
    assert_eq!(path.parent().unwrap(), mail_dir);
    assert_eq!(path.extension().unwrap(), "eml");
    let files: Vec<_> = std::fs::read_dir(&mail_dir).unwrap().collect();
    assert_eq!(files.len(), 1);

    let raw = std::fs::read(&path).unwrap();
    let parsed = mailparse::parse_mail(&raw).unwrap();
    let headers = parsed.get_headers();
    assert!(headers.get_first_value("To").unwrap().contains("helene.dupre@example.fr"));
    assert_eq!(headers.get_first_value("Subject").unwrap(), o.subject);
    assert!(parsed.subparts[0].get_body().unwrap().contains(DUE));
}

#[tokio::test]
async fn channels_without_a_transport_fail_permanently() {
    let dir = tempfile::tempdir().unwrap();
    let transports = Transports::new(config(&dir)).unwrap();
    for (channel, to) in [(Channel::Email, "helene.dupre@example.fr"), (Channel::Sms, "06 12 34 56 78")] {
        let err = transports.send(&outgoing(channel, to)).await.unwrap_err();
        assert!(err.is_permanent(), "{channel}: {err:?}");
    }
}

// ---------------------------------------------------------------- SMS

#[derive(Debug, Clone)]
struct SmsRequest {
    authorization: Option<String>,
    idempotency_key: Option<String>,
    json: serde_json::Value,
}

#[derive(Clone)]
struct Gateway {
    requests: Arc<Mutex<Vec<SmsRequest>>>,
    status: StatusCode,
}

async fn gateway_handler(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Json(json): Json<serde_json::Value>,
) -> (StatusCode, Json<serde_json::Value>) {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    gw.requests.lock().unwrap().push(SmsRequest {
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        json,
    });
    let answer = if gw.status.is_success() {
        serde_json::json!({ "id": "sms-42", "status": "queued" })
    } else {
        serde_json::json!({ "error": "numéro refusé" })
    };
    (gw.status, Json(answer))
}

/// An HTTP SMS gateway on loopback answering every request with `status`.
async fn start_gateway(status: StatusCode) -> (String, Arc<Mutex<Vec<SmsRequest>>>) {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/sms", post(gateway_handler))
        .with_state(Gateway { requests: requests.clone(), status });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, requests)
}

fn sms_transports(dir: &tempfile::TempDir, url: &str, token: Option<&str>) -> Transports {
    let mut sms = SmsConfig::new(url);
    sms.bearer_token = token.map(str::to_owned);
    sms.timeout_secs = 5;
    Transports::new(TransportConfig { sms: Some(sms), ..config(dir) }).unwrap()
}

#[tokio::test]
async fn sms_is_posted_to_the_gateway() {
    let (url, requests) = start_gateway(StatusCode::OK).await;
    let dir = tempfile::tempdir().unwrap();
    let transports = sms_transports(&dir, &url, Some("s3cr3t"));
    let o = outgoing(Channel::Sms, "06 12 34 56 78");

    let delivery = transports.send(&o).await.unwrap();
    assert_eq!(delivery.channel, Channel::Sms);
    assert_eq!(delivery.detail, "sms-42");

    let requests = requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(req.authorization.as_deref(), Some("Bearer s3cr3t"));
    assert_eq!(req.idempotency_key, Some(o.reminder_id.to_string()));
    assert_eq!(req.json["to"], "+33612345678");
    // Alphanumeric sender ids are 11 ASCII characters at most.
    assert_eq!(req.json["from"], "Epicerie du");
    let text = req.json["text"].as_str().unwrap();
    assert!(text.starts_with(&format!("{}\n", o.subject)), "{text}");
    assert!(text.contains("Bonjour Hélène, Sauf erreur"), "{text}");
    // Not GSM 7-bit (ç, ê... are missing from it): three UCS-2 segments at most.
    assert!(text.encode_utf16().count() <= 201, "{text}");
    assert!(text.ends_with('…'), "{text}");
}

#[tokio::test]
async fn sms_without_token_sends_no_authorization() {
    let (url, requests) = start_gateway(StatusCode::ACCEPTED).await;
    let dir = tempfile::tempdir().unwrap();
    let transports = sms_transports(&dir, &url, None);
    let mut o = outgoing(Channel::Sms, "+33 7 12 34 56 78");
    o.subject = "Rappel".to_owned();
    o.body = "Votre solde est de 12,00 €.".to_owned();

    // A retry, from this process or another, carries the same key.
    transports.send(&o).await.unwrap();
    transports.send(&o).await.unwrap();
    let requests = requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].idempotency_key, Some(o.reminder_id.to_string()));
    assert_eq!(requests[0].idempotency_key, requests[1].idempotency_key);
    assert_eq!(requests[0].authorization, None);
    assert_eq!(requests[0].json["to"], "+33712345678");
    assert_eq!(requests[0].json["text"], "Rappel\nVotre solde est de 12,00 €.");
}

#[tokio::test]
async fn sms_rejected_with_400_is_permanent() {
    let (url, _) = start_gateway(StatusCode::BAD_REQUEST).await;
    let dir = tempfile::tempdir().unwrap();
    let transports = sms_transports(&dir, &url, None);

    let err = transports.send(&outgoing(Channel::Sms, "06 12 34 56 78")).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent(_)), "{err:?}");
    assert!(err.message().contains("400"), "{err}");
    assert!(err.message().contains("numéro refusé"), "{err}");
}

#[tokio::test]
async fn sms_gateway_unavailable_is_transient() {
    let (url, _) = start_gateway(StatusCode::SERVICE_UNAVAILABLE).await;
    let dir = tempfile::tempdir().unwrap();
    let transports = sms_transports(&dir, &url, None);

    let err = transports.send(&outgoing(Channel::Sms, "06 12 34 56 78")).await.unwrap_err();
    assert!(matches!(err, SendError::Transient(_)), "{err:?}");
    assert!(err.message().contains("503"), "{err}");
}

#[tokio::test]
async fn sms_gateway_down_is_transient() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let transports = sms_transports(&dir, &format!("http://127.0.0.1:{port}/sms"), None);

    let err = transports.send(&outgoing(Channel::Sms, "06 12 34 56 78")).await.unwrap_err();
    assert!(matches!(err, SendError::Transient(_)), "{err:?}");
}

#[tokio::test]
async fn sms_to_an_invalid_number_is_permanent_and_not_posted() {
    let (url, requests) = start_gateway(StatusCode::OK).await;
    let dir = tempfile::tempdir().unwrap();
    let transports = sms_transports(&dir, &url, None);

    let err = transports.send(&outgoing(Channel::Sms, "pas de numéro")).await.unwrap_err();
    assert!(err.is_permanent(), "{err:?}");
    assert!(requests.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------- letters

fn pdf_text(path: &str) -> (usize, String) {
    let doc = lopdf::Document::load(path).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    (pages.len(), doc.extract_text(&pages).unwrap())
}

#[tokio::test]
async fn letter_is_a_pdf_with_extractable_french_text() {
    let dir = tempfile::tempdir().unwrap();
    let transports = Transports::new(config(&dir)).unwrap();
    let o = outgoing(Channel::Letter, "Hélène Dupré\n12 rue de l’Église\nBâtiment B\n75011 Paris");

    let delivery = transports.send(&o).await.unwrap();
    let expected = dir.path().join("letters").join(format!("{}.pdf", o.reminder_id));
    assert_eq!(delivery.detail, expected.display().to_string());
    assert!(std::fs::read(&expected).unwrap().starts_with(b"%PDF-"));

    let (pages, text) = pdf_text(&delivery.detail);
    assert_eq!(pages, 1);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for expected in [
        "Épicerie du Marché",
        "contact@epicerie-marche.fr",
        "Hélène Dupré",
        "12 rue de l’Église",
        "Bâtiment B",
        "75011 Paris",
        "MISE EN DEMEURE",
        "Montant dû : 1 234,50 €",
        "Pénalités de retard : 12,34 €",
        "Indemnité forfaitaire pour frais de recouvrement : 40,00 €",
        "Bonjour Hélène,",
    ] {
        assert!(lines.contains(&expected), "{expected:?} missing from {text}");
    }
    // The customer's name is already the first line of the address: not printed twice.
    assert_eq!(lines.iter().filter(|l| **l == "Hélène Dupré").count(), 1);
    assert!(text.contains("Objet : Relance : impayé de 1 234,50 € — dernière"), "{text}");
    assert!(text.contains("L’équipe de l’Épicerie"), "{text}");
    assert!(lines.contains(&"Le 4 décembre 2026"), "the date given, in full: {text}");
    // No partial file is left behind.
    assert_eq!(std::fs::read_dir(dir.path().join("letters")).unwrap().count(), 1);
}

#[tokio::test]
async fn plain_reminder_letter_has_no_formal_notice_and_skips_zero_amounts() {
    let dir = tempfile::tempdir().unwrap();
    let transports = Transports::new(config(&dir)).unwrap();
    let mut o = outgoing(Channel::Letter, "3 place du Marché\n69001 Lyon");
    o.formal_notice = false;
    o.penalties = "0.00".to_owned();
    o.indemnity = "0".to_owned();

    let delivery = transports.send(&o).await.unwrap();
    let (_, text) = pdf_text(&delivery.detail);
    assert!(!text.contains("MISE EN DEMEURE"), "{text}");
    assert!(!text.contains("Pénalités"), "{text}");
    // The name comes before an address that lacks it.
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let name = lines.iter().position(|l| *l == "Hélène Dupré").unwrap();
    assert_eq!(lines[name + 1], "3 place du Marché");
    assert!(lines.contains(&"Montant dû : 1 234,50 €"), "{text}");
}

#[tokio::test]
async fn long_letters_flow_onto_more_pages() {
    let dir = tempfile::tempdir().unwrap();
    let transports = Transports::new(config(&dir)).unwrap();
    let mut o = outgoing(Channel::Letter, "Hélène Dupré\n1 rue Haute\n13001 Marseille");
    let paragraph = "Nous vous rappelons que votre ardoise n’est toujours pas réglée à ce jour. ".repeat(6);
    o.body = vec![paragraph; 16].join("\n\n");

    let delivery = transports.send(&o).await.unwrap();
    let (pages, text) = pdf_text(&delivery.detail);
    assert!(pages >= 2, "{pages} page(s)");
    assert!(text.contains(&format!("Page {pages}/{pages}")), "{text}");
    assert!(text.contains("Montant dû : 1 234,50 €"), "{text}");
}

#[tokio::test]
async fn letter_without_address_is_permanent() {
    let dir = tempfile::tempdir().unwrap();
    let transports = Transports::new(config(&dir)).unwrap();
    let err = transports.send(&outgoing(Channel::Letter, "  \n ")).await.unwrap_err();
    assert!(err.is_permanent(), "{err:?}");
}

#[test]
fn config_reads_from_json() {
    let cfg: TransportConfig = serde_json::from_str(
        r#"{
            "smtp": { "host": "127.0.0.1", "port": 2525, "starttls": false },
            "sms": { "url": "http://127.0.0.1:9000/sms", "bearer_token": "t", "sender": "Epicerie" },
            "letters_dir": "/var/lib/ardoise/letters"
        }"#,
    )
    .unwrap();
    let smtp = cfg.smtp.unwrap();
    assert_eq!(smtp.port, Some(2525));
    assert!(!smtp.starttls);
    assert_eq!(smtp.timeout_secs, 30);
    let sms = cfg.sms.unwrap();
    assert!(!format!("{sms:?}").contains("\"t\""), "token must not be printed");
    assert_eq!(cfg.mail_dir, None);
}
