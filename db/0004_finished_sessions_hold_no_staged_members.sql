-- From this version on, a session's staged members go in the transaction that finishes it: its commit,
-- its supersession, or retention abandoning it (src/Host.CSharp/Retention/RetentionSql.cs). Retention no
-- longer looks for staged members of finished sessions, so those an earlier version left for its next
-- pass (an abandoned session's) go here, once. Driven by the finished sessions' page records, through the
-- staged_member (upload_id) index.
DELETE FROM staged_member
WHERE upload_id IN (SELECT p.upload_id
                    FROM session_page p JOIN sync_session s ON s.session_key = p.session_key
                    WHERE s.state <> 'open');
