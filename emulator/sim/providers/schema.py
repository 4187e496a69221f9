"""The provider databases: AOSP's file names, tables and column names.

Only the columns that clients and scoring read are kept, under the names the
AOSP providers use, so ``content query`` output and SQL against the files
look like a real phone's.
"""

from __future__ import annotations

CONTACTS_DB = "/data/data/com.android.providers.contacts/databases/contacts2.db"
CALLLOG_DB = "/data/data/com.android.providers.contacts/databases/calllog.db"
SMS_DB = "/data/data/com.android.providers.telephony/databases/mmssms.db"
CALENDAR_DB = "/data/data/com.android.providers.calendar/databases/calendar.db"
SETTINGS_DB = "/data/data/com.android.providers.settings/databases/settings.db"

MIME_NAME = "vnd.android.cursor.item/name"
MIME_PHONE = "vnd.android.cursor.item/phone_v2"
MIME_EMAIL = "vnd.android.cursor.item/email_v2"

_DATA_COLS = ", ".join(f"data{i} TEXT" for i in range(1, 16))

CONTACTS_SQL = f"""
CREATE TABLE IF NOT EXISTS contacts (
  _id INTEGER PRIMARY KEY AUTOINCREMENT, name_raw_contact_id INTEGER, display_name TEXT,
  photo_id INTEGER, photo_uri TEXT, custom_ringtone TEXT,
  send_to_voicemail INTEGER NOT NULL DEFAULT 0, times_contacted INTEGER NOT NULL DEFAULT 0,
  last_time_contacted INTEGER, starred INTEGER NOT NULL DEFAULT 0,
  pinned INTEGER NOT NULL DEFAULT 0, has_phone_number INTEGER NOT NULL DEFAULT 0,
  lookup TEXT, contact_last_updated_timestamp INTEGER,
  in_visible_group INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS raw_contacts (
  _id INTEGER PRIMARY KEY AUTOINCREMENT, contact_id INTEGER, account_name TEXT,
  account_type TEXT, sourceid TEXT, version INTEGER NOT NULL DEFAULT 1,
  dirty INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0,
  aggregation_mode INTEGER NOT NULL DEFAULT 0, display_name TEXT, display_name_alt TEXT,
  display_name_source INTEGER NOT NULL DEFAULT 0, phonetic_name TEXT, sort_key TEXT,
  starred INTEGER NOT NULL DEFAULT 0, times_contacted INTEGER NOT NULL DEFAULT 0,
  last_time_contacted INTEGER, custom_ringtone TEXT,
  send_to_voicemail INTEGER NOT NULL DEFAULT 0, pinned INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS data (
  _id INTEGER PRIMARY KEY AUTOINCREMENT, raw_contact_id INTEGER NOT NULL,
  mimetype TEXT NOT NULL, is_primary INTEGER NOT NULL DEFAULT 0,
  is_super_primary INTEGER NOT NULL DEFAULT 0, data_version INTEGER NOT NULL DEFAULT 0,
  {_DATA_COLS}, data_sync1 TEXT, data_sync2 TEXT, data_sync3 TEXT, data_sync4 TEXT);
CREATE INDEX IF NOT EXISTS data_raw_contact_id ON data (raw_contact_id);
CREATE VIEW IF NOT EXISTS view_data AS
  SELECT data._id AS _id, data.raw_contact_id AS raw_contact_id, mimetype, is_primary,
    is_super_primary, data_version, {", ".join(f"data{i}" for i in range(1, 16))},
    data_sync1, data_sync2, data_sync3, data_sync4,
    raw_contacts.contact_id AS contact_id, raw_contacts.account_name AS account_name,
    raw_contacts.account_type AS account_type, contacts.display_name AS display_name,
    contacts.lookup AS lookup, contacts.starred AS starred,
    contacts.has_phone_number AS has_phone_number
  FROM data JOIN raw_contacts ON data.raw_contact_id = raw_contacts._id
  LEFT JOIN contacts ON raw_contacts.contact_id = contacts._id;
CREATE VIEW IF NOT EXISTS view_phone_lookup AS
  SELECT contacts._id AS _id, contacts.lookup AS lookup, contacts.display_name AS display_name,
    contacts.starred AS starred, contacts.has_phone_number AS has_phone_number,
    contacts.photo_id AS photo_id, contacts.custom_ringtone AS custom_ringtone,
    data.data1 AS number, data.data2 AS type, data.data3 AS label,
    data.data4 AS normalized_number, data._id AS data_id
  FROM contacts JOIN raw_contacts ON raw_contacts.contact_id = contacts._id
  JOIN data ON data.raw_contact_id = raw_contacts._id AND data.mimetype = '{MIME_PHONE}';
"""

SMS_SQL = """
CREATE TABLE IF NOT EXISTS sms (
  _id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id INTEGER, address TEXT, person INTEGER,
  date INTEGER, date_sent INTEGER DEFAULT 0, protocol INTEGER, read INTEGER DEFAULT 0,
  status INTEGER DEFAULT -1, type INTEGER, reply_path_present INTEGER, subject TEXT,
  body TEXT, service_center TEXT, locked INTEGER DEFAULT 0, sub_id INTEGER DEFAULT -1,
  error_code INTEGER DEFAULT 0, creator TEXT, seen INTEGER DEFAULT 0);
CREATE INDEX IF NOT EXISTS sms_thread ON sms (thread_id);
CREATE TABLE IF NOT EXISTS canonical_addresses (
  _id INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT);
CREATE TABLE IF NOT EXISTS threads (
  _id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0,
  message_count INTEGER DEFAULT 0, recipient_ids TEXT, snippet TEXT,
  snippet_cs INTEGER DEFAULT 0, read INTEGER DEFAULT 1, archived INTEGER DEFAULT 0,
  type INTEGER DEFAULT 0, error INTEGER DEFAULT 0, has_attachment INTEGER DEFAULT 0);
CREATE VIEW IF NOT EXISTS sms_conversations AS
  SELECT sms.thread_id AS thread_id, groups.msg_count AS msg_count, sms.body AS snippet
  FROM sms JOIN (SELECT thread_id, MAX(date) AS max_date, MAX(_id) AS max_id,
    COUNT(*) AS msg_count FROM sms GROUP BY thread_id) AS groups
  ON sms.thread_id = groups.thread_id AND sms._id = (
    SELECT _id FROM sms AS s2 WHERE s2.thread_id = groups.thread_id
    ORDER BY s2.date DESC, s2._id DESC LIMIT 1);
"""

CALLLOG_SQL = """
CREATE TABLE IF NOT EXISTS calls (
  _id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT,
  presentation INTEGER NOT NULL DEFAULT 1, post_dial_digits TEXT NOT NULL DEFAULT '',
  via_number TEXT NOT NULL DEFAULT '', date INTEGER, duration INTEGER, data_usage INTEGER,
  type INTEGER, features INTEGER NOT NULL DEFAULT 0, subscription_component_name TEXT,
  subscription_id TEXT, phone_account_address TEXT, new INTEGER, name TEXT,
  numbertype INTEGER, numberlabel TEXT, countryiso TEXT, voicemail_uri TEXT,
  is_read INTEGER, geocoded_location TEXT, lookup_uri TEXT, matched_number TEXT,
  normalized_number TEXT, photo_id INTEGER NOT NULL DEFAULT 0, photo_uri TEXT,
  formatted_number TEXT, add_for_all_users INTEGER NOT NULL DEFAULT 1,
  last_modified INTEGER DEFAULT 0);
"""

CALENDAR_SQL = """
CREATE TABLE IF NOT EXISTS Calendars (
  _id INTEGER PRIMARY KEY AUTOINCREMENT, account_name TEXT, account_type TEXT,
  _sync_id TEXT, dirty INTEGER, mutators TEXT, name TEXT, calendar_displayName TEXT,
  calendar_color INTEGER, calendar_color_index TEXT, calendar_access_level INTEGER,
  visible INTEGER NOT NULL DEFAULT 1, sync_events INTEGER NOT NULL DEFAULT 0,
  calendar_location TEXT, calendar_timezone TEXT, ownerAccount TEXT, isPrimary INTEGER,
  canOrganizerRespond INTEGER NOT NULL DEFAULT 1, canModifyTimeZone INTEGER DEFAULT 1,
  canPartiallyUpdate INTEGER DEFAULT 0, maxReminders INTEGER DEFAULT 5,
  allowedReminders TEXT DEFAULT '0,1,2', allowedAvailability TEXT DEFAULT '0,1',
  allowedAttendeeTypes TEXT DEFAULT '0,1,2', deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS Events (
  _id INTEGER PRIMARY KEY AUTOINCREMENT, _sync_id TEXT, dirty INTEGER, mutators TEXT,
  lastSynced INTEGER DEFAULT 0, calendar_id INTEGER NOT NULL, title TEXT,
  eventLocation TEXT, description TEXT, eventColor INTEGER, eventColor_index TEXT,
  eventStatus INTEGER, selfAttendeeStatus INTEGER NOT NULL DEFAULT 0, dtstart INTEGER,
  dtend INTEGER, eventTimezone TEXT, duration TEXT, allDay INTEGER NOT NULL DEFAULT 0,
  accessLevel INTEGER NOT NULL DEFAULT 0, availability INTEGER NOT NULL DEFAULT 0,
  hasAlarm INTEGER NOT NULL DEFAULT 0, hasExtendedProperties INTEGER NOT NULL DEFAULT 0,
  rrule TEXT, rdate TEXT, exrule TEXT, exdate TEXT, original_id INTEGER,
  original_sync_id TEXT, originalInstanceTime INTEGER, originalAllDay INTEGER,
  lastDate INTEGER, hasAttendeeData INTEGER NOT NULL DEFAULT 0,
  guestsCanModify INTEGER NOT NULL DEFAULT 0, guestsCanInviteOthers INTEGER NOT NULL DEFAULT 1,
  guestsCanSeeGuests INTEGER NOT NULL DEFAULT 1, organizer TEXT, isOrganizer INTEGER,
  deleted INTEGER NOT NULL DEFAULT 0, eventEndTimezone TEXT, customAppPackage TEXT,
  customAppUri TEXT, uid2445 TEXT);
CREATE INDEX IF NOT EXISTS events_calendar ON Events (calendar_id);
CREATE TABLE IF NOT EXISTS Reminders (
  _id INTEGER PRIMARY KEY AUTOINCREMENT, event_id INTEGER, minutes INTEGER,
  method INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS Attendees (
  _id INTEGER PRIMARY KEY AUTOINCREMENT, event_id INTEGER, attendeeName TEXT,
  attendeeEmail TEXT, attendeeStatus INTEGER, attendeeRelationship INTEGER,
  attendeeType INTEGER, attendeeIdentity TEXT, attendeeIdNamespace TEXT);
CREATE TRIGGER IF NOT EXISTS events_cleanup_delete DELETE ON Events BEGIN
  DELETE FROM Reminders WHERE event_id = old._id;
  DELETE FROM Attendees WHERE event_id = old._id;
END;
CREATE TRIGGER IF NOT EXISTS calendar_cleanup DELETE ON Calendars BEGIN
  DELETE FROM Events WHERE calendar_id = old._id;
END;
CREATE VIEW IF NOT EXISTS view_events AS
  SELECT Events.*, Calendars.account_name AS account_name,
    Calendars.account_type AS account_type, Calendars.name AS name,
    Calendars.calendar_displayName AS calendar_displayName,
    Calendars.calendar_color AS calendar_color,
    Calendars.calendar_access_level AS calendar_access_level,
    Calendars.visible AS visible, Calendars.sync_events AS sync_events,
    Calendars.calendar_timezone AS calendar_timezone, Calendars.ownerAccount AS ownerAccount
  FROM Events LEFT JOIN Calendars ON Events.calendar_id = Calendars._id;
DROP VIEW IF EXISTS view_instances;
CREATE VIEW IF NOT EXISTS view_event_spans AS
  SELECT Events._id AS event_id, dtstart, dtend, duration, rrule, exdate, allDay, title,
    description, eventLocation, calendar_id, eventTimezone, eventStatus, availability,
    hasAlarm, organizer, Calendars.calendar_displayName AS calendar_displayName,
    Calendars.calendar_color AS calendar_color, Calendars.visible AS visible
  FROM Events LEFT JOIN Calendars ON Events.calendar_id = Calendars._id
  WHERE Events.deleted = 0;
"""

SETTINGS_SQL = "\n".join(
    f"CREATE TABLE IF NOT EXISTS {ns} (_id INTEGER PRIMARY KEY AUTOINCREMENT, "
    f"name TEXT UNIQUE ON CONFLICT REPLACE, value TEXT);"
    for ns in ("system", "secure", "global")
)

# What a fresh phone's settings provider holds (names and values from AOSP defaults).
# The columns of ``content://com.android.calendar/instances/when/BEGIN/END`` rows.
INSTANCE_COLUMNS = (
    "_id",
    "event_id",
    "begin",
    "end",
    "startDay",
    "endDay",
    "startMinute",
    "endMinute",
    "title",
    "description",
    "eventLocation",
    "allDay",
    "calendar_id",
    "eventTimezone",
    "eventStatus",
    "availability",
    "hasAlarm",
    "organizer",
    "rrule",
    "calendar_displayName",
    "calendar_color",
    "visible",
)

DEFAULT_SETTINGS: dict[str, dict[str, str]] = {
    "system": {
        "screen_brightness": "102",
        "screen_brightness_mode": "0",
        "screen_off_timeout": "60000",
        "font_scale": "1.0",
        "time_12_24": "24",
        "accelerometer_rotation": "0",
        "user_rotation": "0",
        "sound_effects_enabled": "1",
        "haptic_feedback_enabled": "1",
    },
    "secure": {
        "location_mode": "3",
        "default_input_method": "com.android.inputmethod.latin/.LatinIME",
        "enabled_input_methods": "com.android.inputmethod.latin/.LatinIME",
        "bluetooth_name": "Pixel 7",
        "show_ime_with_hard_keyboard": "1",
        "user_setup_complete": "1",
    },
    "global": {
        "airplane_mode_on": "0",
        "auto_time": "0",
        "auto_time_zone": "0",
        "wifi_on": "1",
        "bluetooth_on": "0",
        "mobile_data": "1",
        "zen_mode": "0",
        "adb_enabled": "1",
        "development_settings_enabled": "1",
        "device_name": "Pixel 7",
        "device_provisioned": "1",
        "stay_on_while_plugged_in": "0",
        "window_animation_scale": "1.0",
        "transition_animation_scale": "1.0",
        "animator_duration_scale": "1.0",
        "package_verifier_enable": "0",
    },
}

# The local calendar a fresh phone has, so events can be created without an account.
DEFAULT_CALENDAR = {
    "account_name": "Phone",
    "account_type": "LOCAL",
    "name": "Phone",
    "calendar_displayName": "Phone",
    "calendar_color": -14069085,
    "calendar_access_level": 700,
    "visible": 1,
    "sync_events": 1,
    "calendar_timezone": "UTC",
    "ownerAccount": "Phone",
    "isPrimary": 1,
}
