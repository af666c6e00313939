-- A batch's body is stored as the UTF-8 bytes that are sent, so that no attempt converts it to text and back:
-- a batch of a thousand changes is a third of a megabyte, read once per attempt and signed as bytes.
-- Existing bodies are converted; the table is rewritten once, and its bodies keep LZ4.
ALTER TABLE delivery_batch ALTER COLUMN body TYPE bytea USING convert_to(body, 'UTF8');
ALTER TABLE delivery_batch ALTER COLUMN body SET COMPRESSION lz4;
