-- A batch's body is stored as the UTF-8 bytes that are sent, so that no attempt converts it to text and back:
-- a batch of a thousand changes is a third of a megabyte, read once per attempt and signed as bytes.
-- Existing bodies are converted (the same bytes as were sent), in one rewrite of the table that also compresses
-- them with LZ4; delivery waits for it, the webhook does not.
ALTER TABLE delivery_batch
    ALTER COLUMN body TYPE bytea USING convert_to(body, 'UTF8'),
    ALTER COLUMN body SET COMPRESSION lz4;
