// Whether an image can enter the kernel: only a system call can start a thread, or make the
// kernel write user memory (the model's system calls write where they are told, read-only pages too).
import { imageInstructions } from './capstone.js';
import type { Image } from './image.js';

const known = new WeakMap<Image, boolean>();

/** Whether the image holds an instruction that enters the kernel (`syscall`, `sysenter`, `int`). */
export function entersKernel(image: Image): boolean {
  let yes = known.get(image);
  if (yes === undefined) {
    yes = false;
    for (const d of imageInstructions(image)) if (/^(syscall|sysenter|int)\b/.test(d.mnemonic)) yes = true;
    known.set(image, yes);
  }
  return yes;
}
