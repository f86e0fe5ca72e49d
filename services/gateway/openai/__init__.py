"""OpenAI's audio API (`/v1/audio/transcriptions`, `/v1/audio/translations`) in front of
jetscribe jobs: the request read from OpenAI's form fields, the answer in its shapes."""
