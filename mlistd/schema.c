/*
 * schema.c — the database schema as an ordered list of migrations.
 * db_open() applies those not yet applied (PRAGMA user_version counts
 * them). Never edit a published migration: append a new one.
 */
#include "db.h"

const char *const db_migrations[] = {
	/* 1: the roster */
	"CREATE TABLE committee ("
	"  id INTEGER PRIMARY KEY,"
	"  slug TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL,"
	"  region TEXT NOT NULL DEFAULT '',"
	"  department TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE committee_tag ("
	"  committee_id INTEGER NOT NULL REFERENCES committee(id) ON DELETE CASCADE,"
	"  tag TEXT NOT NULL,"
	"  PRIMARY KEY (committee_id, tag));"
	"CREATE TABLE contact ("
	"  id INTEGER PRIMARY KEY,"
	"  committee_id INTEGER NOT NULL REFERENCES committee(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  email TEXT NOT NULL COLLATE NOCASE,"
	"  active INTEGER NOT NULL DEFAULT 1,"
	"  added INTEGER NOT NULL,"
	"  disabled_reason TEXT,"
	"  UNIQUE (committee_id, email));"
	"CREATE INDEX contact_email ON contact(email);"
	"CREATE TABLE sender ("
	"  id INTEGER PRIMARY KEY,"
	"  email TEXT NOT NULL COLLATE NOCASE,"
	"  role TEXT NOT NULL CHECK (role IN ('national', 'editor')),"
	"  name TEXT NOT NULL DEFAULT '',"
	"  added INTEGER NOT NULL,"
	"  UNIQUE (email, role));"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  what TEXT NOT NULL);",

	/* 2: messages and their deliveries */
	"CREATE TABLE message ("
	"  id INTEGER PRIMARY KEY,"
	"  token TEXT NOT NULL UNIQUE,"		/* public id: retour+TOKEN@, mlistctl status */
	"  spool_id TEXT,"			/* the spool file it came from */
	"  rcpt TEXT NOT NULL DEFAULT '',"	/* the envelope recipient it was for */
	"  kind TEXT NOT NULL,"			/* broadcast notice report request reply bounce */
	"  state TEXT NOT NULL,"		/* held sending done refused dropped */
	"  sender TEXT NOT NULL DEFAULT '',"	/* envelope sender */
	"  author TEXT NOT NULL DEFAULT '',"	/* From address */
	"  subject TEXT NOT NULL DEFAULT '',"
	"  message_id TEXT NOT NULL DEFAULT '',"
	"  target TEXT NOT NULL DEFAULT '',"	/* national+TARGET, '' = all */
	"  reason TEXT NOT NULL DEFAULT '',"	/* why held/refused/dropped */
	"  confirm_token TEXT UNIQUE,"		/* confirm+TOKEN@ while held for confirmation */
	"  received INTEGER NOT NULL,"
	"  released INTEGER,"			/* when fan-out was created */
	"  raw BLOB,"				/* as received, while held */
	"  body BLOB);"				/* outgoing message, CRLF */
	"CREATE INDEX message_kind ON message(kind, received);"
	"CREATE UNIQUE INDEX message_spool ON message(spool_id, rcpt);"
	"CREATE TABLE delivery ("
	"  id INTEGER PRIMARY KEY,"
	"  message_id INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,"
	"  contact_id INTEGER REFERENCES contact(id) ON DELETE SET NULL,"
	"  committee_id INTEGER REFERENCES committee(id) ON DELETE SET NULL,"
	"  rcpt TEXT NOT NULL,"
	"  verp TEXT NOT NULL UNIQUE,"		/* rebonds+VERP@: names message and contact */
	"  state TEXT NOT NULL DEFAULT 'queued',"	/* queued sent deferred failed */
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_try INTEGER NOT NULL,"
	"  last_code INTEGER,"
	"  last_reply TEXT,"
	"  updated INTEGER);"
	"CREATE INDEX delivery_due ON delivery(id, next_try) WHERE state IN ('queued', 'deferred');"
	"CREATE INDEX delivery_message ON delivery(message_id, rcpt COLLATE NOCASE);"
	"CREATE TABLE autoresponse ("		/* notices sent, for rate limits */
	"  email TEXT NOT NULL COLLATE NOCASE,"
	"  at INTEGER NOT NULL,"
	"  what TEXT NOT NULL);"
	"CREATE INDEX autoresponse_email ON autoresponse(email, at);",

	/* 3: the bulletin, its submissions, public subscribers, archive search */
	"CREATE TABLE bulletin_issue ("
	"  id INTEGER PRIMARY KEY,"
	"  number INTEGER NOT NULL UNIQUE,"
	"  period_start TEXT NOT NULL,"		/* YYYY-MM-DD, first day */
	"  period_end TEXT NOT NULL,"		/* YYYY-MM-DD, last day */
	"  deadline TEXT NOT NULL,"		/* YYYY-MM-DD, last day to submit */
	"  publish_date TEXT NOT NULL,"		/* YYYY-MM-DD, planned */
	"  state TEXT NOT NULL DEFAULT 'planned'," /* planned open closed published */
	"  published INTEGER,"			/* when publish ran */
	"  message_id INTEGER REFERENCES message(id) ON DELETE SET NULL);" /* the publication */
	"CREATE TABLE bulletin_mailing ("	/* call and reminders: sent once each */
	"  issue_id INTEGER NOT NULL REFERENCES bulletin_issue(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"			/* call, reminder-14, reminder-3, digest-YYYY-MM-DD */
	"  committee_id INTEGER NOT NULL DEFAULT 0,"	/* 0: not per committee */
	"  sent INTEGER NOT NULL,"
	"  PRIMARY KEY (issue_id, kind, committee_id));"
	"CREATE TABLE submission ("
	"  id INTEGER PRIMARY KEY,"
	"  issue_id INTEGER REFERENCES bulletin_issue(id) ON DELETE SET NULL,"
	"  committee_id INTEGER REFERENCES committee(id) ON DELETE SET NULL,"
	"  sender TEXT NOT NULL,"
	"  message_id TEXT NOT NULL DEFAULT '',"	/* the report's Message-ID */
	"  ack_message_id TEXT NOT NULL DEFAULT '',"	/* our acknowledgement's: a reply to it corrects */
	"  title TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  activity_date TEXT NOT NULL,"	/* YYYY-MM-DD */
	"  state TEXT NOT NULL DEFAULT 'new',"	/* new accepted rejected held replaced */
	"  hold_reason TEXT NOT NULL DEFAULT '',"
	"  position INTEGER,"			/* editor's order within the issue */
	"  received INTEGER NOT NULL,"
	"  replaces INTEGER REFERENCES submission(id),"
	"  digested INTEGER);"			/* when listed in an editors' digest */
	"CREATE INDEX submission_issue ON submission(issue_id, state);"
	"CREATE TABLE submission_file ("
	"  id INTEGER PRIMARY KEY,"
	"  submission_id INTEGER NOT NULL REFERENCES submission(id) ON DELETE CASCADE,"
	"  filename TEXT NOT NULL,"		/* as sent, decoded */
	"  content_type TEXT NOT NULL,"
	"  is_photo INTEGER NOT NULL,"		/* JPEG or PNG shown in the bulletin */
	"  size INTEGER NOT NULL,"
	"  path TEXT NOT NULL);"		/* relative to data_dir: files/S/N.ext */
	"CREATE TABLE subscriber ("		/* public readers of the bulletin (double opt-in) */
	"  id INTEGER PRIMARY KEY,"
	"  email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  state TEXT NOT NULL DEFAULT 'pending',"	/* pending active unsubscribed */
	"  token TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  confirmed INTEGER);"
	"CREATE VIRTUAL TABLE archive_fts USING fts5(kind UNINDEXED, ref UNINDEXED, date UNINDEXED,"
	"  committee, title, body, tokenize = 'unicode61 remove_diacritics 2');",

	/* 4: replies, bounces, coverage alerts */
	"ALTER TABLE contact ADD COLUMN bounce_score REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE contact ADD COLUMN bounce_updated INTEGER;"	/* when the score last changed */
	"ALTER TABLE contact ADD COLUMN last_error TEXT;"		/* last delivery/bounce error */
	"CREATE TABLE reply ("
	"  id INTEGER PRIMARY KEY,"
	"  message_id INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE," /* the broadcast */
	"  committee_id INTEGER REFERENCES committee(id) ON DELETE SET NULL,"
	"  sender TEXT NOT NULL,"
	"  subject TEXT NOT NULL DEFAULT '',"
	"  received INTEGER NOT NULL,"
	"  auto TEXT,"				/* NULL: a person; else why it is automatic */
	"  forward_id INTEGER REFERENCES message(id) ON DELETE SET NULL);" /* our forward */
	"CREATE INDEX reply_message ON reply(message_id);"
	"CREATE TABLE bounce ("
	"  id INTEGER PRIMARY KEY,"
	"  delivery_id INTEGER REFERENCES delivery(id) ON DELETE SET NULL,"
	"  contact_id INTEGER REFERENCES contact(id) ON DELETE SET NULL,"
	"  received INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"			/* hard soft delayed spam unknown */
	"  status TEXT NOT NULL DEFAULT '',"	/* 5.1.1 */
	"  diagnostic TEXT NOT NULL DEFAULT '',"
	"  score REAL NOT NULL DEFAULT 0);"	/* what it added to the contact's score */
	"CREATE TABLE coverage_alert ("		/* one alert per (broadcast, committee) */
	"  message_id INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,"
	"  committee_id INTEGER NOT NULL,"
	"  sent INTEGER NOT NULL,"
	"  PRIMARY KEY (message_id, committee_id));",

	/* 5: mailbox polling: what was already taken from each mailbox */
	"CREATE TABLE fetch_seen ("
	"  mailbox TEXT NOT NULL,"		/* the [fetch NAME] block */
	"  uidvalidity INTEGER NOT NULL,"	/* IMAP UIDVALIDITY (0 for POP3/Maildir) */
	"  uid TEXT NOT NULL,"			/* IMAP UID, POP3 UIDL, Maildir unique name */
	"  message_id TEXT NOT NULL DEFAULT '',"
	"  spool_id TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY (mailbox, uidvalidity, uid));"
	"CREATE INDEX fetch_seen_mid ON fetch_seen(mailbox, message_id);",

	/* 6: which spool file's recipient was handled (engine_run), so that a
	 * crash between the commit and the unlink never handles it twice; the
	 * rows of broadcasts recorded before this table existed come along. */
	"CREATE TABLE handled ("
	"  spool_id TEXT NOT NULL,"
	"  rcpt TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY (spool_id, rcpt)) WITHOUT ROWID;"
	"INSERT OR IGNORE INTO handled (spool_id, rcpt, at) SELECT spool_id, rcpt, received"
	"  FROM message WHERE spool_id IS NOT NULL AND rcpt != '';",

	/* 7: the bulletin as tracked mailings: a large body kept as a file
	 * (data_dir/mailings/TOKEN.eml) instead of a blob; each proof and the
	 * publication recorded with its message, whose deliveries tell sent,
	 * deferred and failed */
	"ALTER TABLE message ADD COLUMN body_file TEXT;"
	"ALTER TABLE bulletin_mailing ADD COLUMN message_id INTEGER REFERENCES message(id)"
	"  ON DELETE SET NULL;",

	/* 8: every attachment's fate; a photo's master dimensions */
	"ALTER TABLE submission_file ADD COLUMN kind TEXT NOT NULL DEFAULT 'file';" /* photo document file */
	"UPDATE submission_file SET kind = 'photo' WHERE is_photo = 1;"
	"ALTER TABLE submission_file ADD COLUMN width INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE submission_file ADD COLUMN height INTEGER NOT NULL DEFAULT 0;",

	/* 9: what a proof showed (issue_hashes), so that publishing by mail
	 * needs a proof of the very content to be published */
	"ALTER TABLE bulletin_mailing ADD COLUMN content_hash TEXT;",

	/* 10: the report mailed once to a broadcast's author (office.c); the
	 * broadcasts already sent count as reported: an upgrade mails no old
	 * report */
	"CREATE TABLE broadcast_report ("
	"  message_id INTEGER PRIMARY KEY REFERENCES message(id) ON DELETE CASCADE,"
	"  sent INTEGER NOT NULL);"		/* 0: released before this table existed */
	"INSERT INTO broadcast_report (message_id, sent) SELECT id, 0 FROM message"
	"  WHERE kind = 'broadcast' AND released IS NOT NULL;",
};

const int db_nmigrations = sizeof(db_migrations) / sizeof(db_migrations[0]);
