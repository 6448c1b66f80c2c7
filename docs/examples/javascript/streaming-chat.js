// Stream an answer token by token from a local model.
// Run:  node streaming-chat.js "Tell me a short story."
import OpenAI from 'openai';

const openai = new OpenAI({
  baseURL: process.env.LOCAL_MODEL_BASE_URL || 'http://localhost:8080/v1',
  apiKey: process.env.LOCAL_API_KEY || 'dummy-key',
});
const MODEL = process.env.LOCAL_MODEL_NAME || 'ai/smollm2';

const prompt = process.argv.slice(2).join(' ') || 'Count from one to five.';
try {
  const stream = await openai.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: prompt }],
    stream: true,
    max_tokens: 200,
  });
  for await (const chunk of stream) {
    const piece = chunk.choices[0]?.delta?.content;
    if (piece) process.stdout.write(piece);
  }
  process.stdout.write('\n');
} catch (error) {
  console.error(`\nLocal model error: ${error.message} — is the server running? Try: trayai status`);
  process.exit(1);
}
