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
};

const int db_nmigrations = sizeof(db_migrations) / sizeof(db_migrations[0]);
