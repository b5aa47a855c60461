/** The open fd numbers of this process, ascending (fstat over the descriptor table; no /proc). */
export declare function openFds(): number[];
/** How many fds this process has open. */
export declare function fdCount(): number;
