"""On PostgreSQL, refuse UPDATE and DELETE of the audit trail at the database level."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION cases_outfallevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'cases_outfallevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS cases_outfallevent_append_only ON cases_outfallevent;
CREATE TRIGGER cases_outfallevent_append_only
    BEFORE UPDATE OR DELETE ON cases_outfallevent
    FOR EACH ROW EXECUTE FUNCTION cases_outfallevent_append_only();
DROP TRIGGER IF EXISTS cases_outfallevent_no_truncate ON cases_outfallevent;
"""

DROP = """
DROP TRIGGER IF EXISTS cases_outfallevent_append_only ON cases_outfallevent;
DROP FUNCTION IF EXISTS cases_outfallevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
