"""On PostgreSQL, refuse at the database level what the models refuse in Python:

- objections, answers, assessment events, evidence sets and formula versions are written
  once (UPDATE and DELETE refused);
- a finalized assessment is never changed, and no assessment is deleted.
"""

from django.db import migrations

APPEND_ONLY = [
    "assessments_objection",
    "assessments_objectionanswer",
    "assessments_assessmentevent",
    "assessments_evidenceset",
    "assessments_formulaversion",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION assessments_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION assessments_assessment_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.status = 'finalized' THEN
        RAISE EXCEPTION 'assessments_assessment: % of a finalized assessment refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS assessments_assessment_frozen ON assessments_assessment;
CREATE TRIGGER assessments_assessment_frozen
    BEFORE UPDATE OR DELETE ON assessments_assessment
    FOR EACH ROW EXECUTE FUNCTION assessments_assessment_frozen();
"""

TABLE = """
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION assessments_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS assessments_assessment_frozen ON assessments_assessment;
DROP FUNCTION IF EXISTS assessments_assessment_frozen();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)
        for table in APPEND_ONLY:
            schema_editor.execute(TABLE.format(table=table), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in APPEND_ONLY:
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};", params=None
            )
        schema_editor.execute("DROP FUNCTION IF EXISTS assessments_append_only();", params=None)
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
