// The engine (core.js) in a module worker, drawing with WebGL2 on an OffscreenCanvas.
import { serve } from './core.js';

serve(self);
